// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Audit;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Node.Configuration;

namespace ExchangeBus.Cli.Audit;

/// <summary><c>xbus audit archive|prune|verify-archive</c>: closed periods of a node's log, kept as linked, self-proving files.</summary>
internal static class AuditArchiveCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return CreateArchive();
        yield return CreatePrune();
        yield return CreateVerify();
    }

    private static Command CreateArchive()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder.", Required = true };
        var before = new Option<string>("--before") { Description = "Archive records written before this time (ISO 8601, e.g. 2026-11-01T00:00:00Z).", Required = true };
        var output = new Option<string>("--out") { Description = "The folder the archive files go to.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var renewWithin = new Option<uint?>("--renew-within")
        {
            Description = "First renew the time-stamps of the archives already in --out whose last TSA certificate expires within this many days (90 is a good choice), at the TSA of the node's global configuration, trusting the node's anchor.",
        };
        var command = new Command("archive", "Write the next closed period of the node's message log (up to its last time-stamped tree head before --before) to a linked archive file.")
        {
            data, before, output, json, renewWithin,
        };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var paths = new NodePaths(parse.GetValue(data)!);
            var node = NodeSettings.Read(paths.Settings).Node;
            var text = parse.InvocationConfiguration.Output;

            // Renewals first: a cron job that archives monthly keeps the older archives renewable, even in a month with nothing new to archive.
            if (parse.GetValue(renewWithin) is { } days)
            {
                var (renewed, warnings) = await AuditRenewCommands.RenewDueArchivesAsync(paths, parse.GetValue(output)!, TimeSpan.FromDays(days), cancellationToken).ConfigureAwait(false);
                foreach (var (file, stamps, _) in renewed)
                {
                    text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"renewed {file}: {stamps[0].File} time-stamped {stamps[0].GenTime:O}"));
                }

                foreach (var warning in warnings)
                {
                    parse.InvocationConfiguration.Error.WriteLine("warning: " + warning);
                }
            }

            var result = LogArchiver.Archive(paths.MessageLog, node, parse.GetValue(output)!, Time(parse.GetValue(before)!), TimeProvider.System);
            text.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { path = result.Path, fromSequence = result.FromSequence, toSequence = result.ToSequence, sha256 = result.Sha256 })
                : $"archived records {result.FromSequence}–{result.ToSequence} to {result.Path} (SHA-256 {result.Sha256})");
        }));
        return command;
    }

    private static Command CreatePrune()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder.", Required = true };
        var olderThan = new Option<string>("--older-than") { Description = "Remove archived records all written before this time (ISO 8601): the retention limit.", Required = true };
        var command = new Command("prune", "Remove from the node's message log the records of whole archives older than the retention limit; never a record that is not archived.")
        {
            data, olderThan,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var paths = new NodePaths(parse.GetValue(data)!);
            var removed = LogArchiver.Prune(paths.MessageLog, Time(parse.GetValue(olderThan)!), TimeProvider.System);
            parse.InvocationConfiguration.Output.WriteLine($"removed {removed} archived records");
        }));
        return command;
    }

    private static Command CreateVerify()
    {
        var file = new Argument<string>("archive") { Description = "The archive file; its renewals (ARCHIVE.renewal-K.tst) are read from beside it." };
        var previous = new Option<string?>("--previous") { Description = "The archive before it: checks that this one follows it." };
        var command = new Command("verify-archive", "Check an archive on its own, offline: its entries, the records' chain, the tree heads' roots, signatures and tokens, its renewals, and its link to the one before.")
        {
            file, previous, AuditorConnection.TrustRootOption, AuditorConnection.AnchorOption,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            // Without a root, what can be checked without one still is; the output says so.
            var trusted = parse.GetValue(AuditorConnection.TrustRootOption) is not null || parse.GetValue(AuditorConnection.AnchorOption) is not null;
            var roots = trusted ? AuditorConnection.Roots(parse) : null;
            try
            {
                var result = LogArchiver.Verify(parse.GetValue(file)!, parse.GetValue(previous), roots, TimeProvider.System);
                var manifest = result.Manifest;
                var output = parse.InvocationConfiguration.Output;
                output.WriteLine(
                    $"archive of {manifest.Node}, records {manifest.FromSequence}–{manifest.ToSequence}, {manifest.TreeHeadSizes.Count} tree heads: verified" +
                    (result.TokensChecked ? string.Empty : " (time-stamp tokens not checked: give --trust-root or --anchor)"));
                if (result.LastStamp is { } last)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {result.Renewals} renewal(s); last time-stamp {last.File} at {last.GenTime:O}, its TSA certificate valid until {last.TsaNotAfter:O}"));
                }

                if (result.Warning is { } warning)
                {
                    parse.InvocationConfiguration.Error.WriteLine("warning: " + warning);
                }
            }
            finally
            {
                AuditorConnection.DisposeAll(roots ?? []);
            }
        }));
        return command;
    }

    private static DateTimeOffset Time(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw new CliException("Cli.InvalidArguments", $"'{text}' is not a date and time (ISO 8601).");
}
