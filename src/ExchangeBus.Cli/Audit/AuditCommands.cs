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
        foreach (var command in AuditArchiveCommands.Create().Concat(AuditAcrossNodesCommands.Create()))
        {
            audit.Subcommands.Add(command);
        }

        audit.Subcommands.Add(AuditRemoteCommands.CreateQuery());
        audit.Subcommands.Add(AuditRemoteCommands.CreateRecord());
        audit.Subcommands.Add(AuditStampCommands.CreateStamp());
        audit.Subcommands.Add(AuditBundleCommands.CreateExport());
        audit.Subcommands.Add(AuditBundleCommands.CreateVerify());
        audit.Subcommands.Add(AuditRenewCommands.Create());
        audit.Subcommands.Add(AuditVerifyCommands.CreateVerify());
        return audit;
    }
}
