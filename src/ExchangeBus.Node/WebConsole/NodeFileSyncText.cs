// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Files;
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Node.WebConsole;

/// <summary>The file sync page's retry of a failed delivery, in both languages (built like <see cref="NodeOperatorText"/>).</summary>
public sealed record NodeFileSyncText
{
    public required string RetryHelp { get; init; }
    public required string Retry { get; init; }
    public required string Retried { get; init; }
    public required string Refused { get; init; }
    public required string NotFound { get; init; }
    public required string NotRetryable { get; init; }
    public required string FinalRefusal { get; init; }
    public required string ContentGone { get; init; }

    /// <summary>What a refusal's code means, for the codes a retry answers with; other codes are shown as they are.</summary>
    public string? Explain(string code) => code switch
    {
        FileErrors.NotFound => NotFound,
        FileErrors.NotRetryable => NotRetryable,
        FileErrors.FinalRefusal => FinalRefusal,
        FileErrors.ContentGone => ContentGone,
        _ => null,
    };

    public static readonly NodeFileSyncText Vietnamese = new()
    {
        RetryHelp = "Quản trị viên hệ thống có thể gửi lại một lần chuyển thất bại sau khi đã khắc phục nguyên nhân: lần thất bại vẫn được giữ trong nhật ký thông điệp, lần gửi lại được ghi thêm cùng tên người yêu cầu.",
        Retry = "Gửi lại",
        Retried = "Đã đưa lần chuyển trở lại hàng đợi; nút sẽ gửi ngay.",
        Refused = "Không gửi lại được:",
        NotFound = "Không có lần chuyển này.",
        NotRetryable = "Lần chuyển không ở trạng thái thất bại (đang chờ, đang gửi hoặc đã chuyển).",
        FinalRefusal = "Bên nhận từ chối chính bản kê khai đã ký; gửi lại sẽ bị từ chối như cũ. Hãy gửi tệp lại với mã tệp mới.",
        ContentGone = "Nội dung tệp không còn trên nút (đã xóa sau thời hạn lưu giữ); hãy gửi tệp lại.",
    };

    public static readonly NodeFileSyncText English = new()
    {
        RetryHelp = "A system administrator may retry a failed delivery once its cause is put right: the failure stays in the message log, and the retry is recorded after it with who asked.",
        Retry = "Retry",
        Retried = "The delivery is back in the queue; the node sends it now.",
        Refused = "Not retried:",
        NotFound = "There is no such delivery.",
        NotRetryable = "The delivery is not failed (it is waiting, sending, or delivered).",
        FinalRefusal = "The recipient refused the signed manifest itself; a retry would be refused the same way. Send the file again under a new file id.",
        ContentGone = "The file's content is no longer held by the node (removed after its retention); send the file again.",
    };

    public static NodeFileSyncText For(HttpContext context) => ConsoleLanguages.Pick(ConsoleLanguages.Of(context), Vietnamese, English);
}
