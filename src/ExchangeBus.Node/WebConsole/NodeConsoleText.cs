// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>The node console's navigation and status strings, in both languages (built like <see cref="ConsoleText"/>).</summary>
public sealed record NodeConsoleText
{
    public required string Status { get; init; }
    public required string Node { get; init; }
    public required string Ready { get; init; }
    public required string NotReady { get; init; }
    public required string GlobalConfiguration { get; init; }
    public required string Version { get; init; }
    public required string Expires { get; init; }
    public required string NoConfiguration { get; init; }
    public required string SigningCertificate { get; init; }
    public required string OcspStatus { get; init; }
    public required string OcspAnswered { get; init; }
    public required string NoOcsp { get; init; }
    public required string OcspGood { get; init; }
    public required string OcspRevoked { get; init; }
    public required string OcspUnknown { get; init; }
    public required string Stale { get; init; }
    public required string MessageLog { get; init; }
    public required string Records { get; init; }
    public required string Waiting { get; init; }
    public required string TimeStamping { get; init; }
    public required string StampedThrough { get; init; }
    public required string NotStamped { get; init; }
    public required string Unstamped { get; init; }

    public static readonly NodeConsoleText Vietnamese = new()
    {
        Status = "Trạng thái",
        Node = "Nút",
        Ready = "Sẵn sàng",
        NotReady = "Chưa sẵn sàng: không có cấu hình toàn cục còn hiệu lực",
        GlobalConfiguration = "Cấu hình toàn cục",
        Version = "Phiên bản",
        Expires = "Hết hạn",
        NoConfiguration = "Chưa có cấu hình",
        SigningCertificate = "Chứng thư ký",
        OcspStatus = "Trạng thái OCSP",
        OcspAnswered = "Trả lời lúc",
        NoOcsp = "Chưa có trả lời OCSP",
        OcspGood = "Hợp lệ",
        OcspRevoked = "Đã thu hồi",
        OcspUnknown = "Không xác định",
        Stale = "đã cũ",
        MessageLog = "Nhật ký thông điệp",
        Records = "Bản ghi",
        Waiting = "Đang chờ ghi",
        TimeStamping = "Gắn dấu thời gian",
        StampedThrough = "Đã gắn dấu đến bản ghi",
        NotStamped = "Chưa gắn dấu lần nào",
        Unstamped = "Bản ghi chưa gắn dấu",
    };

    public static readonly NodeConsoleText English = new()
    {
        Status = "Status",
        Node = "Node",
        Ready = "Ready",
        NotReady = "Not ready: no global configuration in date",
        GlobalConfiguration = "Global configuration",
        Version = "Version",
        Expires = "Expires",
        NoConfiguration = "No configuration yet",
        SigningCertificate = "Signing certificate",
        OcspStatus = "OCSP status",
        OcspAnswered = "Answered at",
        NoOcsp = "No OCSP answer yet",
        OcspGood = "Good",
        OcspRevoked = "Revoked",
        OcspUnknown = "Unknown",
        Stale = "stale",
        MessageLog = "Message log",
        Records = "Records",
        Waiting = "Waiting to be written",
        TimeStamping = "Time-stamping",
        StampedThrough = "Time-stamped through record",
        NotStamped = "Never time-stamped",
        Unstamped = "Records not yet time-stamped",
    };

    public static NodeConsoleText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);
}
