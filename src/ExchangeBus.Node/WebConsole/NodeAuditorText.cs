// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>The auditor's pages' strings (Audit/), in both languages (built like <see cref="NodeConsoleText"/>).</summary>
public sealed record NodeAuditorText
{
    public required string Trail { get; init; }
    public required string Query { get; init; }
    public required string Verify { get; init; }
    public required string Reconcile { get; init; }
    public required string SubjectId { get; init; }
    public required string From { get; init; }
    public required string To { get; init; }
    public required string Show { get; init; }
    public required string Time { get; init; }
    public required string Client { get; init; }
    public required string Service { get; init; }
    public required string User { get; init; }
    public required string Issue { get; init; }
    public required string Status { get; init; }
    public required string MessageId { get; init; }
    public required string Direction { get; init; }
    public required string Sequence { get; init; }
    public required string Records { get; init; }
    public required string Streamed { get; init; }
    public required string ChainVerifies { get; init; }
    public required string ChainBroken { get; init; }
    public required string NothingFound { get; init; }
    public required string Truncated { get; init; }
    public required string TrailHint { get; init; }
    public required string QueryHint { get; init; }
    public required string NextPage { get; init; }
    public required string FirstPage { get; init; }
    public required string Record { get; init; }
    public required string NoRecord { get; init; }
    public required string Hash { get; init; }
    public required string PreviousHash { get; init; }
    public required string CorrelationId { get; init; }
    public required string Header { get; init; }
    public required string Body { get; init; }
    public required string BodyNotLogged { get; init; }
    public required string Bytes { get; init; }
    public required string Signature { get; init; }
    public required string Signer { get; init; }
    public required string SerialNumber { get; init; }
    public required string Issuer { get; init; }
    public required string Unsigned { get; init; }
    public required string Verified { get; init; }
    public required string NotVerified { get; init; }
    public required string Ocsp { get; init; }
    public required string OcspGood { get; init; }
    public required string OcspRevoked { get; init; }
    public required string OcspUnknown { get; init; }
    public required string NoOcsp { get; init; }
    public required string ProducedAt { get; init; }
    public required string TimeStamp { get; init; }
    public required string Tsa { get; init; }
    public required string TreeHead { get; init; }
    public required string TreeSize { get; init; }
    public required string Root { get; init; }
    public required string InclusionProof { get; init; }
    public required string NotYetStamped { get; init; }
    public required string StampNow { get; init; }
    public required string Stamped { get; init; }
    public required string DownloadBundle { get; init; }
    public required string BundleHint { get; init; }
    public required string VerifyHint { get; init; }
    public required string VerifyRun { get; init; }
    public required string Intact { get; init; }
    public required string Broken { get; init; }
    public required string FirstBadSequence { get; init; }
    public required string RecordsChecked { get; init; }
    public required string ContinueFrom { get; init; }
    public required string Error { get; init; }

    public static readonly NodeAuditorText Vietnamese = new()
    {
        Trail = "Dấu vết công dân",
        Query = "Tra cứu nhật ký",
        Verify = "Kiểm tra nhật ký",
        Reconcile = "Đối chiếu",
        SubjectId = "Mã định danh công dân",
        From = "Từ ngày",
        To = "Đến ngày",
        Show = "Xem",
        Time = "Thời gian",
        Client = "Bên gọi",
        Service = "Dịch vụ",
        User = "Cán bộ",
        Issue = "Hồ sơ",
        Status = "Kết quả",
        MessageId = "Mã thông điệp",
        Direction = "Chiều",
        Sequence = "Số thứ tự",
        Records = "Bản ghi",
        Streamed = "luồng",
        ChainVerifies = "chuỗi hợp lệ",
        ChainBroken = "CHUỖI KHÔNG HỢP LỆ",
        NothingFound = "Không có bản ghi nào.",
        Truncated = "Quá nhiều bản ghi: chỉ hiện phần đầu; hãy thu hẹp khoảng thời gian.",
        TrailHint = "Mọi trao đổi về một công dân mà nút này đã ghi, cũ nhất trước; một cuộc gọi luồng là một trao đổi.",
        QueryHint = "Bản ghi khớp mọi điều kiện đã nhập, cũ nhất trước. Mặc định: 7 ngày gần nhất.",
        NextPage = "Trang sau",
        FirstPage = "Trang đầu",
        Record = "Bản ghi",
        NoRecord = "Không có bản ghi này.",
        Hash = "Mã băm",
        PreviousHash = "Mã băm bản ghi trước",
        CorrelationId = "Mã tương quan",
        Header = "Phần đầu đã ký",
        Body = "Nội dung",
        BodyNotLogged = "không lưu nội dung, chỉ mã băm",
        Bytes = "byte",
        Signature = "Chữ ký",
        Signer = "Người ký",
        SerialNumber = "Số sê-ri",
        Issuer = "Bên cấp",
        Unsigned = "Không có chữ ký (bản ghi kết quả của cuộc gọi thất bại)",
        Verified = "đã xác minh",
        NotVerified = "KHÔNG XÁC MINH ĐƯỢC",
        Ocsp = "Trạng thái OCSP",
        OcspGood = "Hợp lệ",
        OcspRevoked = "Đã thu hồi",
        OcspUnknown = "Không xác định",
        NoOcsp = "Không có trả lời OCSP",
        ProducedAt = "Trả lời lúc",
        TimeStamp = "Dấu thời gian",
        Tsa = "Đơn vị cấp dấu thời gian",
        TreeHead = "Đầu cây đã ký",
        TreeSize = "Kích thước cây",
        Root = "Gốc",
        InclusionProof = "Chứng minh thuộc cây",
        NotYetStamped = "Chưa có đầu cây có dấu thời gian nào bao gồm bản ghi này.",
        StampNow = "Gắn dấu thời gian ngay",
        Stamped = "Đã gắn dấu thời gian cho nhật ký.",
        DownloadBundle = "Tải gói chứng cứ",
        BundleHint = "Kiểm tra ngoại tuyến bằng: xbus audit verify-bundle TỆP --anchor anchor.json",
        VerifyHint = "Kiểm tra chuỗi băm, liên kết luồng và mã băm nội dung của một khoảng bản ghi (tối đa 100.000 bản ghi mỗi lần). Kiểm tra đầy đủ chữ ký và dấu thời gian: xbus audit verify --data.",
        VerifyRun = "Kiểm tra",
        Intact = "Nguyên vẹn",
        Broken = "BỊ SỬA ĐỔI HOẶC THIẾU",
        FirstBadSequence = "Bản ghi sai đầu tiên",
        RecordsChecked = "Số bản ghi đã kiểm tra",
        ContinueFrom = "Kiểm tra tiếp từ bản ghi",
        Error = "Lỗi",
    };

    public static readonly NodeAuditorText English = new()
    {
        Trail = "Citizen's trail",
        Query = "Log query",
        Verify = "Verify the log",
        Reconcile = "Reconcile",
        SubjectId = "Citizen's subject id",
        From = "From",
        To = "To",
        Show = "Show",
        Time = "Time",
        Client = "Client",
        Service = "Service",
        User = "Official",
        Issue = "Issue",
        Status = "Outcome",
        MessageId = "Message id",
        Direction = "Direction",
        Sequence = "Sequence",
        Records = "Records",
        Streamed = "streamed",
        ChainVerifies = "chain verifies",
        ChainBroken = "CHAIN DOES NOT VERIFY",
        NothingFound = "No records.",
        Truncated = "Too many records: only the first are shown; narrow the time range.",
        TrailHint = "Every exchange about one citizen that this node logged, oldest first; a streamed call is one exchange.",
        QueryHint = "Records matching every filter given, oldest first. By default: the last 7 days.",
        NextPage = "Next page",
        FirstPage = "First page",
        Record = "Record",
        NoRecord = "There is no such record.",
        Hash = "Hash",
        PreviousHash = "Previous record's hash",
        CorrelationId = "Correlation id",
        Header = "Signed header",
        Body = "Body",
        BodyNotLogged = "body not kept, its hash only",
        Bytes = "bytes",
        Signature = "Signature",
        Signer = "Signer",
        SerialNumber = "Serial number",
        Issuer = "Issuer",
        Unsigned = "Unsigned (the outcome record of a failed call)",
        Verified = "verified",
        NotVerified = "DOES NOT VERIFY",
        Ocsp = "OCSP status",
        OcspGood = "Good",
        OcspRevoked = "Revoked",
        OcspUnknown = "Unknown",
        NoOcsp = "No OCSP response",
        ProducedAt = "Answered at",
        TimeStamp = "Time-stamp",
        Tsa = "Time-stamping authority",
        TreeHead = "Signed tree head",
        TreeSize = "Tree size",
        Root = "Root",
        InclusionProof = "Inclusion proof",
        NotYetStamped = "No time-stamped tree head covers this record yet.",
        StampNow = "Time-stamp now",
        Stamped = "The log was time-stamped.",
        DownloadBundle = "Download the evidence bundle",
        BundleHint = "Check it offline with: xbus audit verify-bundle FILE --anchor anchor.json",
        VerifyHint = "Checks the hash chain, the streams' links and the bodies' hashes of a range of records (at most 100,000 a run). The full check of signatures and time-stamps: xbus audit verify --data.",
        VerifyRun = "Verify",
        Intact = "Intact",
        Broken = "ALTERED OR INCOMPLETE",
        FirstBadSequence = "First bad record",
        RecordsChecked = "Records checked",
        ContinueFrom = "Continue from record",
        Error = "Error",
    };

    public static NodeAuditorText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);
}
