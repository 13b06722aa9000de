// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.MessageLog;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// Checks a range of the log with the node's own <see cref="MessageLogReader.Verify"/> (hash
/// chain, streams' links, bodies' hashes, a cut tail), at most <see cref="MaxRecords"/> a run so
/// one request's work is bounded; a longer range is continued from where the run stopped. Each
/// run is audited with its outcome.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class VerifyModel(SqliteMessageLog log, AuditedAccountStore accounts) : PageModel
{
    public const string Action = "messagelog.verify";

    public const long MaxRecords = 100_000;

    public long LastSequence { get; private set; }

    public long From { get; private set; } = 1;

    public long? To { get; private set; }

    public MessageLogVerification? Result { get; private set; }

    /// <summary>Where the next run starts when this one stopped before the range's end.</summary>
    public long? ContinueFrom { get; private set; }

    public void OnGet() => LastSequence = log.LastSequence();

    public void OnPost(long from = 1, long? to = null)
    {
        LastSequence = log.LastSequence();
        From = Math.Max(1, from);
        To = to is { } end && end >= From ? end : null;
        var wanted = To ?? LastSequence;
        var through = Math.Min(wanted, From + MaxRecords - 1);

        // The whole tail (to left empty, within the bound) is read to the end: only then is a cut tail found.
        Result = To is null && through == LastSequence ? log.Reader.Verify(From) : log.Reader.Verify(From, through);
        ContinueFrom = Result.IsValid && through < wanted ? through + 1 : null;
        accounts.RecordEvent(ConsoleAccount.Actor(ConsoleAuthentication.Name(User)), Action, true, string.Empty,
            new { from = From, to = through, valid = Result.IsValid, problem = Result.Problem, firstBadSequence = Result.FirstBadSequence });
    }
}
