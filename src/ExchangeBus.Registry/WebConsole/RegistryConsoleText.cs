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
