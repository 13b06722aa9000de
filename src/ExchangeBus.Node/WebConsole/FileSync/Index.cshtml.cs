// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using FileSyncService = ExchangeBus.Node.Files.FileSync;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// File sync for one of the node's client subsystems: its outbox (each file it sent, one row per
/// recipient's delivery with its state, attempts and last reason) or its inbox (each file it
/// received and its state), a page at a time in files.db's listing order, with the listing's own
/// page token for the next page. No file names or subject ids: those are for auditors. A failed
/// delivery has a retry button for those who may retry (<see cref="FileSyncRetryModel"/>, which
/// checks again on the server).
/// </summary>
public sealed class FileSyncModel(NodeSettingsEditor settings, FileSyncService files, IAuthorizationService authorization) : PageModel
{
    /// <summary>Whether this person may retry a failed delivery: the button is shown only then.</summary>
    public bool MayRetry { get; private set; }

    public IReadOnlyList<string> Subsystems { get; private set; } = [];

    public string? Subsystem { get; private set; }

    public bool Inbox { get; private set; }

    public IReadOnlyList<(SentFile File, IReadOnlyList<OutboxEntry> Deliveries)> Sent { get; private set; } = [];

    public IReadOnlyList<InboxEntry> Received { get; private set; } = [];

    /// <summary>The token of the next page, when there is one.</summary>
    public string? Next { get; private set; }

    public async Task OnGetAsync(string? subsystem, string? box, string? after)
    {
        MayRetry = (await authorization.AuthorizeAsync(User, NodeConsolePolicies.ManageSystem)).Succeeded;
        Subsystems = [.. settings.Read().Clients.Select(c => c.Subsystem).Order(StringComparer.Ordinal)];
        Subsystem = Subsystems.FirstOrDefault(s => s == subsystem) ?? Subsystems.FirstOrDefault();
        Inbox = box == "inbox";
        if (Subsystem is null)
        {
            return;
        }

        var position = Position(after, Subsystem, Inbox);
        var size = ConsolePage<object>.DefaultSize;
        if (Inbox)
        {
            var received = files.Database.ListReceived(Subsystem, null, position, size + 1);
            Received = [.. received.Take(size)];
            Next = received.Count > size ? ListPageToken.Write(Subsystem, null, true, LocalFiles.Position(Received[^1].Description, Received[^1].ReceivedAt)) : null;
        }
        else
        {
            var sent = files.Database.ListSent(Subsystem, null, position, size + 1);
            Sent = [.. sent.Take(size).Select(f => (f.File, files.Database.Outbox(Subsystem, f.File.Description.FileId)))];
            Next = sent.Count > size ? ListPageToken.Write(Subsystem, null, false, LocalFiles.Position(Sent[^1].File.Description, Sent[^1].File.AcceptedAt)) : null;
        }
    }

    /// <summary>Where the page starts: after the token's position, or at the start for none (or one for another listing).</summary>
    private static ListPosition? Position(string? token, string subsystem, bool inbox)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var (received, after) = ListPageToken.Read(token, subsystem, null);
            return received == inbox ? after : null;
        }
        catch (NodeException)
        {
            return null;
        }
    }
}
