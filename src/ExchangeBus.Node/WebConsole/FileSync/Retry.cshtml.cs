// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Files;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Retries one failed delivery of the outbox (<see cref="DeliveryRetry"/>): system administrators
/// only, checked on the server, since a delivery is the node's own work (its outbox, its store,
/// its connections to other nodes), not a service it offers; the same policy covers node.json.
/// Every request, done or refused, goes into the admin audit log as <c>node.files.retry</c> with
/// the person's account; the message log records the retry with the same name. Back to the
/// outbox with <c>done=retried</c> or the refusal's code (post, redirect, get).
/// </summary>
[Authorize(Policy = NodeConsolePolicies.ManageSystem)]
public sealed class FileSyncRetryModel(DeliveryRetry retry, AuditedAccountStore accounts) : PageModel
{
    public const string Retried = "retried";

    public IActionResult OnGet() => LocalRedirect("/FileSync");

    public async Task<IActionResult> OnPostAsync(string? sender, string? fileId, string? recipient)
    {
        sender = sender?.Trim() ?? string.Empty;
        fileId = fileId?.Trim() ?? string.Empty;
        recipient = recipient?.Trim() ?? string.Empty;
        var actor = ConsoleAccount.Actor(ConsoleAuthentication.Name(User));
        // The message log's retry record carries the same correlation id: the two logs meet there.
        var correlationId = Guid.NewGuid().ToString("N");
        var details = new { sender, fileId, recipient, correlationId };
        Dictionary<string, string?> outcome = new() { ["subsystem"] = sender, ["box"] = "outbox" };
        try
        {
            await retry.RetryAsync(sender, fileId, recipient, actor, correlationId).ConfigureAwait(false);
            accounts.RecordEvent(actor, DeliveryRetry.AuditAction, true, string.Empty, details);
            outcome["done"] = Retried;
        }
        catch (NodeException ex)
        {
            accounts.RecordEvent(actor, DeliveryRetry.AuditAction, false, ex.Code, details);
            outcome["error"] = ex.Code;
        }

        return OutcomeQuery.Back("/FileSync", outcome);
    }
}
