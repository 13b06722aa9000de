// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>The reconcile page's strings (Audit/Reconcile, Audit/WindowBundle), in both languages (built like <see cref="NodeAuditorText"/>).</summary>
public sealed record NodeReconcileText
{
    public required string Title { get; init; }
    public required string Hint { get; init; }
    public required string ExportTitle { get; init; }
    public required string ExportHint { get; init; }
    public required string Peer { get; init; }
    public required string AnyPeer { get; init; }
    public required string Download { get; init; }
    public required string UploadTitle { get; init; }
    public required string UploadHint { get; init; }
    public required string BundleFile { get; init; }
    public required string Upload { get; init; }
    public required string Report { get; init; }
    public required string ThisNode { get; init; }
    public required string OtherNode { get; init; }
    public required string Window { get; init; }
    public required string BundleRecords { get; init; }
    public required string OwnRecords { get; init; }
    public required string Exchanges { get; init; }
    public required string Matched { get; init; }
    public required string Unanswered { get; init; }
    public required string FileDeliveries { get; init; }
    public required string FilesMatched { get; init; }
    public required string FilesUndelivered { get; init; }
    public required string Consistent { get; init; }
    public required string Inconsistent { get; init; }
    public required string Differences { get; init; }
    public required string Code { get; init; }
    public required string EvidenceOn { get; init; }
    public required string Detail { get; init; }
    public required string Refused { get; init; }

    public static readonly NodeReconcileText Vietnamese = new()
    {
        Title = "Đối chiếu với nút khác",
        Hint = "Đối chiếu không cần khóa: nút kia xuất một gói bằng chứng về các bản ghi trong một khoảng thời gian (tự chứng minh bằng chữ ký, đầu cây và dấu thời gian), bạn tải gói đó lên đây; nút này kiểm tra gói như xbus audit verify-bundle rồi so với nhật ký của chính nó.",
        ExportTitle = "Xuất nhật ký của nút này theo khoảng thời gian",
        ExportHint = "Gói gồm các bản ghi trao đổi và giao tệp với nút đã nêu (hoặc mọi nút), không kèm nội dung thông điệp; nút đóng dấu thời gian các bản ghi chưa có trước khi xuất. Tải gói lên bảng điều khiển của nút kia để đối chiếu.",
        Peer = "Với nút",
        AnyPeer = "mọi nút",
        Download = "Tải gói bằng chứng",
        UploadTitle = "Đối chiếu với gói của nút kia",
        UploadHint = "Gói xuất từ bảng điều khiển của nút kia (hoặc bằng xbus audit export --from --to).",
        BundleFile = "Gói bằng chứng (.zip)",
        Upload = "Kiểm tra và đối chiếu",
        Report = "Kết quả đối chiếu",
        ThisNode = "Nút này",
        OtherNode = "Nút kia",
        Window = "Khoảng thời gian",
        BundleRecords = "Bản ghi trong gói",
        OwnRecords = "Bản ghi của nút này",
        Exchanges = "Trao đổi giữa hai nút",
        Matched = "Ghi giống nhau ở cả hai",
        Unanswered = "Không được trả lời",
        FileDeliveries = "Lượt giao tệp",
        FilesMatched = "Giao tệp ghi giống nhau",
        FilesUndelivered = "Chưa có biên nhận",
        Consistent = "Hai nhật ký khớp nhau",
        Inconsistent = "Hai nhật ký có khác biệt",
        Differences = "Khác biệt",
        Code = "Mã",
        EvidenceOn = "Bằng chứng ở nút",
        Detail = "Chi tiết",
        Refused = "Bị từ chối",
    };

    public static readonly NodeReconcileText English = new()
    {
        Title = "Reconcile with another node",
        Hint = "Reconciling needs no key: the other node exports an evidence bundle of its records over a time window (proving itself by signatures, tree heads and time-stamps), you upload it here; this node checks it as xbus audit verify-bundle does and compares it with its own log.",
        ExportTitle = "Export this node's log over a window",
        ExportHint = "The bundle holds the records of exchanges and file deliveries with the node named (or every node), without message bodies; the node time-stamps records not yet covered before exporting. Upload it to the other node's console to reconcile.",
        Peer = "With the node",
        AnyPeer = "every node",
        Download = "Download the evidence bundle",
        UploadTitle = "Reconcile with the other node's bundle",
        UploadHint = "A bundle exported from the other node's console (or with xbus audit export --from --to).",
        BundleFile = "Evidence bundle (.zip)",
        Upload = "Verify and reconcile",
        Report = "Reconciliation",
        ThisNode = "This node",
        OtherNode = "The other node",
        Window = "Window",
        BundleRecords = "Records in the bundle",
        OwnRecords = "This node's records",
        Exchanges = "Exchanges between the two",
        Matched = "Logged the same on both",
        Unanswered = "Unanswered",
        FileDeliveries = "File deliveries",
        FilesMatched = "File deliveries logged the same",
        FilesUndelivered = "Without a receipt yet",
        Consistent = "The two logs agree",
        Inconsistent = "The two logs differ",
        Differences = "Differences",
        Code = "Code",
        EvidenceOn = "Evidence held by",
        Detail = "Detail",
        Refused = "Refused",
    };

    public static NodeReconcileText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);
}
