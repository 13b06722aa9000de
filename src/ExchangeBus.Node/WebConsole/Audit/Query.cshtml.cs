// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.WebConsole.Audit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The log's records matching an auditor's filters (what <c>xbus audit query</c> asks), oldest
/// first, a page at a time by the reader's own cursor, in a bounded window of days.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class QueryModel(SqliteMessageLog log, TimeProvider time) : PageModel
{
    public const int PageSize = 50;

    public AuditorWindow Window { get; private set; } = null!;

    public MessageLogPage Results { get; private set; } = new([], null);

    public bool IsFirstPage { get; private set; }

    public void OnGet(DateOnly? from, DateOnly? to, string? client, string? service, string? messageId, string? user, string? status, string? after)
    {
        Window = AuditorWindow.Of(from, to, time);
        IsFirstPage = !MessageLogCursor.TryParse(after, out var cursor);
        Results = log.Reader.Query(new MessageLogQuery
        {
            From = Window.Start,
            To = Window.End,
            Client = Filter(client),
            Service = Filter(service),
            MessageId = Filter(messageId),
            UserId = Filter(user),
            Status = Filter(status),
            PageSize = PageSize,
            After = IsFirstPage ? null : cursor,
        });
    }

    private static string? Filter(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
