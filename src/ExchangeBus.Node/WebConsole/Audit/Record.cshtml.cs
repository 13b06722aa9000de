// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.WebConsole.Audit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>One record with its evidence (what <c>xbus audit record</c> fetches), checked; its body never shown.</summary>
[Authorize(Policy = NodeConsolePolicies.Audit)]
public sealed class RecordModel(SqliteMessageLog log) : PageModel
{
    public long Sequence { get; private set; }

    public RecordEvidenceView? Evidence { get; private set; }

    public void OnGet(long sequence)
    {
        Sequence = sequence;
        Evidence = sequence < 1 || log.Reader.GetEvidence(sequence) is not { } evidence ? null : RecordEvidenceView.Of(evidence, log.Reader);
        if (Evidence is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }
}
