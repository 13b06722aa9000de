// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Localization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.WebConsole.AdminAudit;

/// <summary>
/// The admin audit log page, the registry's and every node's: newest first, filtered by actor,
/// action, accepted or refused, and a time range given in Viet Nam time; a page at a time,
/// rendered by the <c>_AdminAuditLog</c> partial. A component's page derives from this with its
/// own <c>[Authorize]</c> (who may read) and names the policy of the <c>Verify</c> page beside it
/// (an <see cref="AdminAuditVerifyPageModel"/>), whose button it shows only to those the policy allows.
/// </summary>
public abstract class AdminAuditLogPageModel(AuditedAccountStore log, IAuthorizationService authorization) : PageModel
{
    private const string LocalFormat = "yyyy-MM-dd'T'HH:mm";

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public ConsolePage<AdminAuditEntry> Entries { get; private set; } = ConsolePage<AdminAuditEntry>.Of([], 1);

    public string Actor { get; private set; } = string.Empty;

    public string Action { get; private set; } = string.Empty;

    public bool? Result { get; private set; }

    public string FromText { get; private set; } = string.Empty;

    public string ToText { get; private set; } = string.Empty;

    public bool MayVerify { get; private set; }

    /// <summary>The policy of the component's <c>Verify</c> page.</summary>
    protected abstract string VerifyPolicy { get; }

    public async Task OnGetAsync(string? actor, string? action, string? result, string? from, string? to, int page = 1)
    {
        ViewData["Title"] = AdminAuditText.For(HttpContext).AuditLog;
        Actor = actor?.Trim() is { Length: <= 255 } a ? a : string.Empty;
        Action = action?.Trim() is { Length: <= 255 } b ? b : string.Empty;
        Result = result switch { "accepted" => true, "refused" => false, _ => null };
        var (fromAt, toAt) = (Instant(from), Instant(to));
        FromText = fromAt is null ? string.Empty : from!;
        ToText = toAt is null ? string.Empty : to!;
        var filter = new AuditLogFilter(Actor, Action, Result, fromAt, toAt);
        Entries = ConsolePage<AdminAuditEntry>.Read(page, (offset, limit) => log.Search(filter, offset, limit));
        MayVerify = (await authorization.AuthorizeAsync(User, VerifyPolicy)).Succeeded;
    }

    /// <summary>
    /// A state as the table shows it: Vietnamese as letters, not the \u escapes the log stores
    /// (the page encodes it as HTML all the same), and long ones cut; the whole stays in the log
    /// (and the <c>xbus registry|node audit-log query</c> output).
    /// </summary>
    public static string Shorten(string state)
    {
        var readable = state;
        try
        {
            readable = JsonNode.Parse(state)?.ToJsonString(Readable) ?? state;
        }
        catch (JsonException)
        {
            // Not JSON (an empty state): shown as it is.
        }

        return readable.Length <= 300 ? readable : readable[..300] + "…";
    }

    /// <summary>A datetime-local value, in Viet Nam time, as an instant; null when empty or not one.</summary>
    private static DateTimeOffset? Instant(string? local) =>
        DateTime.TryParseExact(local, LocalFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? new DateTimeOffset(time, ConsoleTime.Zone.GetUtcOffset(time))
            : null;
}
