// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>The operator's pages (access rules, clients, services, keys, file sync), in both languages (built like <see cref="NodeConsoleText"/>).</summary>
public sealed record NodeOperatorText
{
    public required string AccessRules { get; init; }
    public required string Clients { get; init; }
    public required string Services { get; init; }
    public required string Keys { get; init; }
    public required string FileSync { get; init; }

    public required string AccessRulesIntro { get; init; }
    public required string ClientsIntro { get; init; }
    public required string ServicesIntro { get; init; }
    public required string KeysIntro { get; init; }
    public required string FileSyncIntro { get; init; }
    public required string AppliedSoon { get; init; }
    public required string Refused { get; init; }
    public required string Unchanged { get; init; }
    public required string NoneYet { get; init; }
    public required string Add { get; init; }
    public required string Remove { get; init; }
    public required string Save { get; init; }
    public required string Edit { get; init; }
    public required string Yes { get; init; }
    public required string No { get; init; }

    public required string Service { get; init; }
    public required string Subject { get; init; }
    public required string SubjectHelp { get; init; }
    public required string AddRule { get; init; }

    public required string Subsystem { get; init; }
    public required string TlsPin { get; init; }
    public required string TlsPinHelp { get; init; }
    public required string NoPin { get; init; }
    public required string LogBodies { get; init; }
    public required string AddClient { get; init; }

    public required string Backend { get; init; }
    public required string Kind { get; init; }
    public required string Address { get; init; }
    public required string Method { get; init; }
    public required string MethodHelp { get; init; }
    public required string TimeoutMs { get; init; }
    public required string AddOrChangeService { get; init; }
    public required string AddOrChangeServiceHelp { get; init; }

    public required string AuthenticationCertificate { get; init; }
    public required string SigningCertificate { get; init; }
    public required string LocalTlsCertificate { get; init; }
    public required string ConsoleCertificate { get; init; }
    public required string CertificateSubject { get; init; }
    public required string Issuer { get; init; }
    public required string Serial { get; init; }
    public required string NotBefore { get; init; }
    public required string NotAfter { get; init; }
    public required string DaysLeft { get; init; }
    public required string Sha256 { get; init; }
    public required string NoFile { get; init; }

    public required string Outbox { get; init; }
    public required string Inbox { get; init; }
    public required string FileId { get; init; }
    public required string Dossier { get; init; }
    public required string Size { get; init; }
    public required string Recipient { get; init; }
    public required string Sender { get; init; }
    public required string State { get; init; }
    public required string Attempts { get; init; }
    public required string Reason { get; init; }
    public required string Updated { get; init; }
    public required string Accepted { get; init; }
    public required string Sending { get; init; }
    public required string Delivered { get; init; }
    public required string Acknowledged { get; init; }
    public required string Failed { get; init; }
    public required string Superseded { get; init; }

    public required string RecentRefusals { get; init; }
    public required string NoRefusals { get; init; }
    public required string ClientSide { get; init; }
    public required string ProviderSide { get; init; }

    /// <summary>A refusal's side as NodeMetrics names it (<c>client</c>, <c>provider</c>).</summary>
    public string Side(string side) => side == "provider" ? ProviderSide : ClientSide;

    public string StateName(DeliveryState state) => state switch
    {
        DeliveryState.Accepted => Accepted,
        DeliveryState.Sending => Sending,
        DeliveryState.Delivered => Delivered,
        DeliveryState.Acknowledged => Acknowledged,
        DeliveryState.Failed => Failed,
        DeliveryState.Superseded => Superseded,
        _ => "—",
    };

    public static readonly NodeOperatorText Vietnamese = new()
    {
        AccessRules = "Quyền truy cập",
        Clients = "Hệ thống khách",
        Services = "Dịch vụ",
        Keys = "Khóa và chứng thư",
        FileSync = "Đồng bộ tệp",

        AccessRulesIntro = "Ai được gọi dịch vụ của nút này; mọi yêu cầu không có quy tắc cho phép đều bị từ chối.",
        ClientsIntro = "Các hệ thống con của đơn vị gọi qua nút này, và chứng thư TLS mỗi hệ thống phải xuất trình.",
        ServicesIntro = "Các dịch vụ nút này cung cấp và backend phục vụ chúng.",
        KeysIntro = "Chứng thư của nút và hạn dùng. Trang này chỉ để xem: việc tạo khóa mới chưa có trong giao diện điều khiển cũng như trong lệnh xbus.",
        FileSyncIntro = "Hộp thư đi và hộp thư đến của đồng bộ tệp theo từng hệ thống con, với trạng thái của từng lần chuyển.",
        AppliedSoon = "Đã lưu vào node.json; nút áp dụng trong vài giây.",
        Refused = "Không thực hiện được:",
        Unchanged = "Không có gì thay đổi.",
        NoneYet = "Chưa có.",
        Add = "Thêm",
        Remove = "Xóa",
        Save = "Lưu",
        Edit = "Sửa",
        Yes = "Có",
        No = "Không",

        Service = "Dịch vụ",
        Subject = "Đối tượng",
        SubjectHelp = "Một thành viên, một hệ thống con, hoặc group:INSTANCE/NHÓM",
        AddRule = "Thêm quy tắc cho phép",

        Subsystem = "Hệ thống con",
        TlsPin = "SHA-256 chứng thư TLS",
        TlsPinHelp = "SHA-256 (64 chữ số hex) của chứng thư TLS hệ thống xuất trình; để trống nếu chỉ gọi qua cổng phát triển",
        NoPin = "không có (chỉ cổng phát triển)",
        LogBodies = "Ghi nội dung vào nhật ký",
        AddClient = "Thêm hoặc sửa hệ thống khách",

        Backend = "Backend",
        Kind = "Loại",
        Address = "Địa chỉ",
        Method = "Phương thức gRPC",
        MethodHelp = "Chỉ với gRPC: /gói.Dịch_vụ/Phương_thức",
        TimeoutMs = "Thời hạn (ms)",
        AddOrChangeService = "Thêm dịch vụ hoặc sửa backend",
        AddOrChangeServiceHelp = "Cùng mã dịch vụ thì backend được thay thế.",

        AuthenticationCertificate = "Chứng thư xác thực",
        SigningCertificate = "Chứng thư ký",
        LocalTlsCertificate = "Chứng thư TLS nội bộ",
        ConsoleCertificate = "Chứng thư của giao diện điều khiển",
        CertificateSubject = "Chủ thể",
        Issuer = "Nơi cấp",
        Serial = "Số sê-ri",
        NotBefore = "Hiệu lực từ",
        NotAfter = "Hiệu lực đến",
        DaysLeft = "Số ngày còn lại",
        Sha256 = "SHA-256",
        NoFile = "Chưa có tệp",

        Outbox = "Hộp thư đi",
        Inbox = "Hộp thư đến",
        FileId = "Mã tệp",
        Dossier = "Hồ sơ",
        Size = "Kích thước (byte)",
        Recipient = "Người nhận",
        Sender = "Người gửi",
        State = "Trạng thái",
        Attempts = "Số lần thử",
        Reason = "Lý do",
        Updated = "Cập nhật",
        Accepted = "Đã nhận gửi",
        Sending = "Đang gửi",
        Delivered = "Đã chuyển",
        Acknowledged = "Đã xác nhận",
        Failed = "Thất bại",
        Superseded = "Đã có bản mới hơn",

        RecentRefusals = "Từ chối gần đây theo mã",
        NoRefusals = "Không có từ chối nào từ khi khởi động.",
        ClientSide = "phía khách",
        ProviderSide = "phía cung cấp",
    };

    public static readonly NodeOperatorText English = new()
    {
        AccessRules = "Access rules",
        Clients = "Clients",
        Services = "Services",
        Keys = "Keys and certificates",
        FileSync = "File sync",

        AccessRulesIntro = "Who may call this node's services; every call no rule allows is refused.",
        ClientsIntro = "The agency's subsystems that call through this node, and the TLS certificate each must present.",
        ServicesIntro = "The services this node provides and the backends that serve them.",
        KeysIntro = "The node's certificates and their expiry. This page is read-only: re-keying is built neither in the console nor in the xbus commands yet.",
        FileSyncIntro = "File sync's outbox and inbox by subsystem, with each delivery's state.",
        AppliedSoon = "Saved to node.json; the node applies it within seconds.",
        Refused = "Not done:",
        Unchanged = "Nothing changed.",
        NoneYet = "None yet.",
        Add = "Add",
        Remove = "Remove",
        Save = "Save",
        Edit = "Change",
        Yes = "Yes",
        No = "No",

        Service = "Service",
        Subject = "Subject",
        SubjectHelp = "A member, a subsystem, or group:INSTANCE/GROUP",
        AddRule = "Add an allow rule",

        Subsystem = "Subsystem",
        TlsPin = "TLS certificate SHA-256",
        TlsPinHelp = "SHA-256 (64 hex digits) of the TLS certificate the system presents; empty if it only calls over the development port",
        NoPin = "none (development port only)",
        LogBodies = "Log bodies",
        AddClient = "Add or change a client",

        Backend = "Backend",
        Kind = "Kind",
        Address = "Address",
        Method = "gRPC method",
        MethodHelp = "gRPC only: /package.Service/Method",
        TimeoutMs = "Timeout (ms)",
        AddOrChangeService = "Add a service or change its backend",
        AddOrChangeServiceHelp = "The same service id replaces its backend.",

        AuthenticationCertificate = "Authentication certificate",
        SigningCertificate = "Signing certificate",
        LocalTlsCertificate = "Local TLS certificate",
        ConsoleCertificate = "Console certificate",
        CertificateSubject = "Subject",
        Issuer = "Issuer",
        Serial = "Serial number",
        NotBefore = "Valid from",
        NotAfter = "Valid until",
        DaysLeft = "Days left",
        Sha256 = "SHA-256",
        NoFile = "No file yet",

        Outbox = "Outbox",
        Inbox = "Inbox",
        FileId = "File id",
        Dossier = "Dossier",
        Size = "Size (bytes)",
        Recipient = "Recipient",
        Sender = "Sender",
        State = "State",
        Attempts = "Attempts",
        Reason = "Reason",
        Updated = "Updated",
        Accepted = "Accepted",
        Sending = "Sending",
        Delivered = "Delivered",
        Acknowledged = "Acknowledged",
        Failed = "Failed",
        Superseded = "Superseded",

        RecentRefusals = "Recent refusals by code",
        NoRefusals = "No refusals since the node started.",
        ClientSide = "client side",
        ProviderSide = "provider side",
    };

    public static NodeOperatorText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);
}
