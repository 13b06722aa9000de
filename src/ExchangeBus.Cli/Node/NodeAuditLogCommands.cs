// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using ExchangeBus.Cli.Audit;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.WebConsole;

namespace ExchangeBus.Cli.Node;

/// <summary>
/// <c>xbus node audit-log query|verify</c>: the node's admin audit log (admin.db: every console
/// and <c>xbus node</c> change to this node), read from the node's data folder, in the shape of
/// <c>xbus registry audit-log</c>. Reading is not an entry, as for every <c>xbus</c> read.
/// </summary>
/// <remarks>
/// <c>verify</c> exits 0 when the chain is intact; 3 with <c>error AdminAudit.ChainBroken: …</c>
/// on stderr when it is not (as <c>xbus audit verify</c> for a message log); 2 when it could not
/// run (no node in the folder); 1 for a wrong command line.
/// </remarks>
internal static class NodeAuditLogCommands
{
    private const int MaxLimit = 1000;

    public static Command Create(TimeProvider timeProvider)
    {
        var data = new Option<string>("--data") { Description = "The node's data folder.", DefaultValueFactory = _ => "node-data" };
        var actor = new Option<string?>("--actor") { Description = "Only this actor, e.g. console:hoa or cli:root." };
        var action = new Option<string?>("--action") { Description = "Only this action, e.g. node.acl.allow." };
        var from = new Option<string?>("--from") { Description = "Only entries at or after this time (ISO 8601; UTC unless it has an offset)." };
        var to = new Option<string?>("--to") { Description = "Only entries before this time (exclusive)." };
        var limit = new Option<int>("--limit") { Description = $"The latest this many entries that match (default 100, at most {MaxLimit}), printed oldest first.", DefaultValueFactory = _ => 100 };
        var query = new Command("query", "Show entries: sequence, time (UTC), accepted or REFUSED, action, actor, error code, state after.") { data, actor, action, from, to, limit };
        query.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var count = parse.GetValue(limit);
            if (count is < 1 or > MaxLimit)
            {
                throw new CliException("Cli.InvalidArguments", $"--limit is from 1 to {MaxLimit}.");
            }

            var filter = new AuditLogFilter(parse.GetValue(actor), parse.GetValue(action), null, Instant(parse.GetValue(from), "--from"), Instant(parse.GetValue(to), "--to"));
            var output = parse.InvocationConfiguration.Output;
            foreach (var e in Open(parse, data, timeProvider).Search(filter, 0, count).Items.Reverse())
            {
                output.WriteLine(AdminAuditLines.Line(e.Sequence, e.At, e.Accepted, e.Action, e.Actor, e.ErrorCode, e.After));
            }
        }));

        var verify = new Command("verify", "Recompute the hash chain of the whole log; exit 3 with AdminAudit.ChainBroken when an entry was edited, deleted or reordered.") { data };
        verify.SetAction(parse =>
        {
            AuditVerification? result = null;
            var exit = CommandRunner.Run(parse, () => result = Open(parse, data, timeProvider).Verify());
            if (result is null)
            {
                return exit;
            }

            if (!result.Valid)
            {
                parse.InvocationConfiguration.Error.WriteLine(
                    $"error {AdminAuditErrors.ChainBroken}: the admin audit log is broken at entry {result.FirstBadSequence}: {result.Problem}");
                return AuditVerifyCommands.ProblemFoundExitCode;
            }

            parse.InvocationConfiguration.Output.WriteLine($"admin audit log intact: {result.Entries} entries");
            return 0;
        });

        return new Command("audit-log", "The node's admin audit log (admin.db): every console and xbus node change, accepted or refused.") { query, verify };
    }

    private static ExchangeBus.WebConsole.Accounts.AuditedAccountStore Open(ParseResult parse, Option<string> data, TimeProvider timeProvider)
    {
        var paths = new NodePaths(parse.GetValue(data)!);

        // Read first: a folder without node.json gets the "run node init" answer, not a fresh admin.db.
        _ = NodeSettings.Read(paths.Settings);
        return NodeAdminDatabase.Open(paths).Accounts(timeProvider);
    }

    private static DateTimeOffset? Instant(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
        : throw new CliException("Cli.InvalidArguments", $"{option} is a time such as 2026-12-07T08:30:00Z or 2026-12-07T15:30:00+07:00.");
}
