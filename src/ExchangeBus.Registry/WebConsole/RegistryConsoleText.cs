// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Registry.WebConsole;

/// <summary>The central authority's console strings, in both languages (built like <see cref="ConsoleText"/>).</summary>
public sealed record RegistryConsoleText
{
    public required string Dashboard { get; init; }
    public required string Members { get; init; }
    public required string Nodes { get; init; }
    public required string PendingRegistrations { get; init; }
    public required string ConfigurationVersion { get; init; }
    public required string ConfigurationExpires { get; init; }
    public required string NoConfiguration { get; init; }
    public required string Registrations { get; init; }
    public required string Registration { get; init; }
    public required string NoPending { get; init; }
    public required string Member { get; init; }
    public required string Node { get; init; }
    public required string Address { get; init; }
    public required string Submitted { get; init; }
    public required string Expires { get; init; }
    public required string State { get; init; }
    public required string Reason { get; init; }
    public required string AuthKeyFingerprint { get; init; }
    public required string ReplacesNode { get; init; }
    public required string AuthenticationCsr { get; init; }
    public required string SigningCsr { get; init; }
    public required string Subject { get; init; }
    public required string KeyFingerprint { get; init; }
    public required string CsrDropped { get; init; }
    public required string Details { get; init; }
    public required string Approve { get; init; }
    public required string Refuse { get; init; }
    public required string RefuseReason { get; init; }
    public required string ApproveReason { get; init; }
    public required string ConfirmedFingerprint { get; init; }
    public required string Approved { get; init; }
    public required string Refused { get; init; }
    public required string DecisionRefused { get; init; }
    public required string ReasonRequired { get; init; }
    public required string NotFound { get; init; }
    public required string Pending { get; init; }
    public required string Expired { get; init; }
    public required string StateApproved { get; init; }
    public required string StateRefused { get; init; }
    public required string MemberClasses { get; init; }
    public required string MemberClass { get; init; }
    public required string Code { get; init; }
    public required string Description { get; init; }
    public required string AddMemberClass { get; init; }
    public required string Search { get; init; }
    public required string SearchMembersHint { get; init; }
    public required string Name { get; init; }
    public required string Enabled { get; init; }
    public required string Disabled { get; init; }
    public required string AddMember { get; init; }
    public required string MemberIdentifier { get; init; }
    public required string NoMembers { get; init; }
    public required string Subsystems { get; init; }
    public required string Subsystem { get; init; }
    public required string AddSubsystem { get; init; }
    public required string SubsystemCode { get; init; }
    public required string NoSubsystems { get; init; }
    public required string Disable { get; init; }
    public required string Enable { get; init; }
    public required string DisabledEffect { get; init; }
    public required string ChangeSaved { get; init; }
    public required string NotDone { get; init; }
    public required string MemberNotFound { get; init; }
    public required string Certificates { get; init; }
    public required string Certificate { get; init; }
    public required string SerialNumber { get; init; }
    public required string Profile { get; init; }
    public required string Owner { get; init; }
    public required string Issuer { get; init; }
    public required string ValidFrom { get; init; }
    public required string ValidUntil { get; init; }
    public required string TrustServices { get; init; }
    public required string DaysLeft { get; init; }
    public required string Issued { get; init; }
    public required string CertificateFingerprint { get; init; }
    public required string Good { get; init; }
    public required string RevokedState { get; init; }
    public required string RevokedAt { get; init; }
    public required string Revoke { get; init; }
    public required string RevocationReason { get; init; }
    public required string RevokeWarning { get; init; }
    public required string CertificateRevoked { get; init; }
    public required string NoCertificates { get; init; }
    public required string CertificateNotFound { get; init; }
    public required string NoNodes { get; init; }
    public required string AuthCertFingerprint { get; init; }
    public required string GlobalGroups { get; init; }
    public required string GlobalGroup { get; init; }
    public required string NoGroups { get; init; }
    public required string NoGroupMembers { get; init; }
    public required string GroupNotFound { get; init; }
    public required string AddToGroup { get; init; }
    public required string GroupMemberHint { get; init; }
    public required string RemoveFromGroup { get; init; }
    public required string Configuration { get; init; }
    public required string Version { get; init; }
    public required string Created { get; init; }
    public required string Size { get; init; }
    public required string Download { get; init; }
    public required string AnchorFingerprint { get; init; }
    public required string AnchorHint { get; init; }
    public required string RegistryAddress { get; init; }
    public required string KeptVersions { get; init; }

    public static readonly RegistryConsoleText Vietnamese = new()
    {
        Dashboard = "Tổng quan",
        Members = "Thành viên",
        Nodes = "Nút",
        PendingRegistrations = "Đăng ký chờ duyệt",
        ConfigurationVersion = "Phiên bản cấu hình chung",
        ConfigurationExpires = "Cấu hình hết hạn lúc",
        NoConfiguration = "Chưa công bố cấu hình nào.",
        Registrations = "Đăng ký nút",
        Registration = "Đăng ký",
        NoPending = "Không có đăng ký nào chờ duyệt.",
        Member = "Thành viên",
        Node = "Nút",
        Address = "Địa chỉ",
        Submitted = "Gửi lúc",
        Expires = "Hết hạn lúc",
        State = "Trạng thái",
        Reason = "Lý do",
        AuthKeyFingerprint = "Dấu vân tay khóa xác thực (SHA-256)",
        ReplacesNode = "Thay thế nút đã có",
        AuthenticationCsr = "Yêu cầu chứng thư xác thực (CSR)",
        SigningCsr = "Yêu cầu chứng thư ký (CSR)",
        Subject = "Chủ thể",
        KeyFingerprint = "Dấu vân tay khóa công khai (SHA-256)",
        CsrDropped = "Không còn lưu (đã quyết định).",
        Details = "Chi tiết",
        Approve = "Phê duyệt",
        Refuse = "Từ chối",
        RefuseReason = "Lý do từ chối",
        ApproveReason = "Ghi chú (không bắt buộc)",
        ConfirmedFingerprint = "Dấu vân tay thành viên đã xác nhận (bắt buộc khi có nhiều đăng ký cho cùng nút)",
        Approved = "Đã phê duyệt đăng ký.",
        Refused = "Đã từ chối đăng ký.",
        DecisionRefused = "Không thực hiện được:",
        ReasonRequired = "Cần ghi lý do từ chối.",
        NotFound = "Không tìm thấy đăng ký này.",
        Pending = "Chờ duyệt",
        Expired = "Hết hạn",
        StateApproved = "Đã duyệt",
        StateRefused = "Đã từ chối",
        MemberClasses = "Lớp thành viên",
        MemberClass = "Lớp thành viên",
        Code = "Mã",
        Description = "Mô tả",
        AddMemberClass = "Thêm lớp thành viên",
        Search = "Tìm",
        SearchMembersHint = "Mã hoặc tên",
        Name = "Tên",
        Enabled = "Đang hoạt động",
        Disabled = "Đã vô hiệu hóa",
        AddMember = "Thêm thành viên",
        MemberIdentifier = "Mã định danh (LỚP/MÃ, ví dụ GOV/000.00.00.G01)",
        NoMembers = "Không có thành viên nào.",
        Subsystems = "Hệ thống con",
        Subsystem = "Hệ thống con",
        AddSubsystem = "Thêm hệ thống con",
        SubsystemCode = "Mã hệ thống con",
        NoSubsystems = "Thành viên này chưa có hệ thống con nào.",
        Disable = "Vô hiệu hóa",
        Enable = "Kích hoạt lại",
        DisabledEffect = "Thành viên hoặc hệ thống con bị vô hiệu hóa không có trong cấu hình chung kế tiếp: các nút không phục vụ và không gọi nó nữa; nút của một thành viên bị vô hiệu hóa cũng bị bỏ khỏi cấu hình.",
        ChangeSaved = "Đã lưu thay đổi; phiên bản cấu hình mới đã được công bố.",
        NotDone = "Không thực hiện được:",
        MemberNotFound = "Không tìm thấy thành viên này.",
        Certificates = "Chứng thư số",
        Certificate = "Chứng thư số",
        SerialNumber = "Số sê-ri",
        Profile = "Loại",
        Owner = "Thành viên hoặc nút (VN/LỚP/MÃ[/NÚT])",
        Issuer = "Bên cấp",
        ValidFrom = "Hiệu lực từ",
        ValidUntil = "Hiệu lực đến",
        TrustServices = "Dịch vụ tin cậy: dấu thời gian và OCSP",
        DaysLeft = "ngày còn lại",
        Issued = "Cấp lúc",
        CertificateFingerprint = "Dấu vân tay chứng thư (SHA-256)",
        Good = "Còn hiệu lực",
        RevokedState = "Đã thu hồi",
        RevokedAt = "Thu hồi lúc",
        Revoke = "Thu hồi",
        RevocationReason = "Lý do thu hồi (RFC 5280)",
        RevokeWarning = "Không thể hoàn tác: OCSP trả lời “đã thu hồi” ngay lập tức, và cấu hình kế tiếp bỏ nút, OCSP hay TSA mang chứng thư này.",
        CertificateRevoked = "Đã thu hồi chứng thư.",
        NoCertificates = "Không có chứng thư nào khớp.",
        CertificateNotFound = "Không tìm thấy chứng thư này.",
        NoNodes = "Chưa có nút nào.",
        AuthCertFingerprint = "Dấu vân tay chứng thư xác thực (SHA-256)",
        GlobalGroups = "Nhóm toàn cục",
        GlobalGroup = "Nhóm toàn cục",
        NoGroups = "Chưa có nhóm toàn cục nào.",
        NoGroupMembers = "Nhóm chưa có thành viên.",
        GroupNotFound = "Không tìm thấy nhóm này.",
        AddToGroup = "Thêm vào nhóm",
        GroupMemberHint = "Thành viên hoặc hệ thống con (VN/LỚP/MÃ hoặc VN/LỚP/MÃ/HỆ_THỐNG_CON)",
        RemoveFromGroup = "Gỡ khỏi nhóm",
        Configuration = "Cấu hình chung",
        Version = "Phiên bản",
        Created = "Tạo lúc",
        Size = "Kích thước (byte)",
        Download = "Tải xuống",
        AnchorFingerprint = "Dấu vân tay neo cấu hình (SHA-256)",
        AnchorHint = "Như lệnh xbus registry anchor export in ra: đọc cho người vận hành nút để đối chiếu với neo họ cài đặt.",
        RegistryAddress = "Địa chỉ gRPC của registry",
        KeptVersions = "Các phiên bản được lưu (100 bản mới nhất), mới nhất trước",
    };

    public static readonly RegistryConsoleText English = new()
    {
        Dashboard = "Dashboard",
        Members = "Members",
        Nodes = "Nodes",
        PendingRegistrations = "Pending registrations",
        ConfigurationVersion = "Global configuration version",
        ConfigurationExpires = "Configuration expires",
        NoConfiguration = "No configuration published yet.",
        Registrations = "Node registrations",
        Registration = "Registration",
        NoPending = "No registration is waiting for a decision.",
        Member = "Member",
        Node = "Node",
        Address = "Address",
        Submitted = "Submitted",
        Expires = "Expires",
        State = "State",
        Reason = "Reason",
        AuthKeyFingerprint = "Authentication key fingerprint (SHA-256)",
        ReplacesNode = "Replaces the listed node",
        AuthenticationCsr = "Authentication certificate request (CSR)",
        SigningCsr = "Signing certificate request (CSR)",
        Subject = "Subject",
        KeyFingerprint = "Public key fingerprint (SHA-256)",
        CsrDropped = "No longer kept (decided).",
        Details = "Details",
        Approve = "Approve",
        Refuse = "Refuse",
        RefuseReason = "Reason for refusing",
        ApproveReason = "Note (optional)",
        ConfirmedFingerprint = "Fingerprint the member confirmed (required when several requests for the node are pending)",
        Approved = "The registration is approved.",
        Refused = "The registration is refused.",
        DecisionRefused = "Not done:",
        ReasonRequired = "Give a reason for refusing.",
        NotFound = "No such registration.",
        Pending = "Pending",
        Expired = "Expired",
        StateApproved = "Approved",
        StateRefused = "Refused",
        MemberClasses = "Member classes",
        MemberClass = "Member class",
        Code = "Code",
        Description = "Description",
        AddMemberClass = "Add a member class",
        Search = "Search",
        SearchMembersHint = "Code or name",
        Name = "Name",
        Enabled = "Enabled",
        Disabled = "Disabled",
        AddMember = "Add a member",
        MemberIdentifier = "Identifier (CLASS/CODE, e.g. GOV/000.00.00.G01)",
        NoMembers = "No members.",
        Subsystems = "Subsystems",
        Subsystem = "Subsystem",
        AddSubsystem = "Add a subsystem",
        SubsystemCode = "Subsystem code",
        NoSubsystems = "This member has no subsystems.",
        Disable = "Disable",
        Enable = "Enable",
        DisabledEffect = "A disabled member or subsystem is left out of the next global configuration: nodes no longer serve or call it; a disabled member's nodes are left out too.",
        ChangeSaved = "The change is saved; a new configuration version is published.",
        NotDone = "Not done:",
        MemberNotFound = "No such member.",
        Certificates = "Certificates",
        Certificate = "Certificate",
        SerialNumber = "Serial number",
        Profile = "Profile",
        Owner = "Member or node (VN/CLASS/CODE[/NODE])",
        Issuer = "Issuer",
        ValidFrom = "Valid from",
        ValidUntil = "Valid until",
        TrustServices = "Trust services: time-stamping and OCSP",
        DaysLeft = "days left",
        Issued = "Issued",
        CertificateFingerprint = "Certificate fingerprint (SHA-256)",
        Good = "Good",
        RevokedState = "Revoked",
        RevokedAt = "Revoked at",
        Revoke = "Revoke",
        RevocationReason = "Revocation reason (RFC 5280)",
        RevokeWarning = "This cannot be undone: OCSP answers revoked at once, and the next configuration leaves out a node, OCSP responder or TSA holding this certificate.",
        CertificateRevoked = "The certificate is revoked.",
        NoCertificates = "No certificate matches.",
        CertificateNotFound = "No such certificate.",
        NoNodes = "No nodes yet.",
        AuthCertFingerprint = "Authentication certificate fingerprint (SHA-256)",
        GlobalGroups = "Global groups",
        GlobalGroup = "Global group",
        NoGroups = "No global groups.",
        NoGroupMembers = "The group has no members.",
        GroupNotFound = "No such group.",
        AddToGroup = "Add to the group",
        GroupMemberHint = "Member or subsystem (VN/CLASS/CODE or VN/CLASS/CODE/SUBSYSTEM)",
        RemoveFromGroup = "Remove",
        Configuration = "Global configuration",
        Version = "Version",
        Created = "Created",
        Size = "Size (bytes)",
        Download = "Download",
        AnchorFingerprint = "Configuration anchor fingerprint (SHA-256)",
        AnchorHint = "As xbus registry anchor export prints it: read it to a node's operator to compare with the anchor they install.",
        RegistryAddress = "Registry gRPC address",
        KeptVersions = "Kept versions (the newest 100), newest first",
    };

    public static RegistryConsoleText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);

    public string StateName(RegistrationState state) => state switch
    {
        RegistrationState.Pending => Pending,
        RegistrationState.Approved => StateApproved,
        RegistrationState.Refused => StateRefused,
        RegistrationState.Expired => Expired,
        _ => state.ToString(),
    };
}
