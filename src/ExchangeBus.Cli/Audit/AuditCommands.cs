// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;

namespace ExchangeBus.Cli.Audit;

/// <summary><c>xbus audit …</c>: an auditor's commands. Each group lives in its own file.</summary>
internal static class AuditCommands
{
    public static Command Create()
    {
        var audit = new Command("audit", "For auditors: keys, queries, verification and evidence bundles of nodes' message logs.");
        audit.Subcommands.Add(AuditorKeyCommands.CreateKeygen());
        audit.Subcommands.Add(AuditVerifyCommands.CreateVerify());
        return audit;
    }
}
