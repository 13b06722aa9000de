// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Localization;

/// <summary>
/// The admin audit log page's strings, in both languages (built like <see cref="ConsoleText"/>):
/// the registry's and every node's consoles show the same page over their own log.
/// </summary>
public sealed record AdminAuditText
{
    public required string AuditLog { get; init; }
    public required string Sequence { get; init; }
    public required string At { get; init; }
    public required string Actor { get; init; }
    public required string Action { get; init; }
    public required string Result { get; init; }
    public required string Accepted { get; init; }
    public required string Refused { get; init; }
    public required string Any { get; init; }
    public required string From { get; init; }
    public required string To { get; init; }
    public required string Filter { get; init; }
    public required string ErrorCode { get; init; }
    public required string BeforeAfter { get; init; }
    public required string NoEntries { get; init; }
    public required string VerifyChain { get; init; }
    public required string ChainIntact { get; init; }
    public required string ChainBroken { get; init; }

    public static readonly AdminAuditText Vietnamese = new()
    {
        AuditLog = "Nhật ký quản trị",
        Sequence = "STT",
        At = "Thời điểm",
        Actor = "Người thực hiện",
        Action = "Thao tác",
        Result = "Kết quả",
        Accepted = "Chấp nhận",
        Refused = "Bị từ chối",
        Any = "Tất cả",
        From = "Từ (giờ Việt Nam)",
        To = "Đến (giờ Việt Nam, không gồm)",
        Filter = "Lọc",
        ErrorCode = "Mã lỗi",
        BeforeAfter = "Trước → sau",
        NoEntries = "Không có mục nào khớp.",
        VerifyChain = "Kiểm tra chuỗi băm",
        ChainIntact = "Chuỗi băm nguyên vẹn. Số mục:",
        ChainBroken = "Chuỗi băm bị hỏng tại mục",
    };

    public static readonly AdminAuditText English = new()
    {
        AuditLog = "Admin audit log",
        Sequence = "No.",
        At = "Time",
        Actor = "Actor",
        Action = "Action",
        Result = "Result",
        Accepted = "Accepted",
        Refused = "Refused",
        Any = "Any",
        From = "From (Viet Nam time)",
        To = "To (Viet Nam time, exclusive)",
        Filter = "Filter",
        ErrorCode = "Error code",
        BeforeAfter = "Before → after",
        NoEntries = "No entry matches.",
        VerifyChain = "Verify the chain",
        ChainIntact = "The hash chain is intact. Entries:",
        ChainBroken = "The hash chain is broken at entry",
    };

    public static AdminAuditText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);
}
