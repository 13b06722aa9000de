// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Audit;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Node.Audit;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit reconcile</c> and <c>xbus audit trail</c>: what an auditor asks of several
/// nodes at once, through each node's audit API.
/// </summary>
internal static class AuditAcrossNodesCommands
{
    /// <summary>Exit code when the logs were read and disagree (2 stays "could not run").</summary>
    public const int DisagreeExitCode = 1;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static IEnumerable<Command> Create()
    {
        yield return CreateReconcile();
        yield return CreateTrail();
    }

    private static Command CreateReconcile()
    {
        var nodes = new Option<string[]>("--node") { Description = "The two nodes' peer addresses, https://host:port (give --node twice).", Required = true, Arity = new ArgumentArity(2, 2) };
        var from = new Option<DateTimeOffset>("--from") { Description = "Exchanges that began at or after this time (ISO 8601).", Required = true };
        var to = new Option<DateTimeOffset>("--to") { Description = "… and before this time.", Required = true };
        var command = new Command("reconcile", "Compare two nodes' records of the exchanges between them; report any message one logged and the other did not, or logged differently.")
        {
            nodes, from, to, AuditorConnection.AuditorOption,
        };
        AuditorConnection.AddTrustOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            ReconcileReport? report = null;
            var exit = await CommandRunner.RunAsync(parse, cancellationToken, async () =>
            {
                var addresses = parse.GetValue(nodes)!;
                var window = (From: parse.GetValue(from), To: parse.GetValue(to));
                // Records of an exchange can sit a little either side of the window on the two
                // nodes: read a margin (the oldest request a provider accepts) and let the
                // comparison keep the exchanges that began inside it.
                var query = new QueryRequest
                {
                    From = Timestamp.FromDateTimeOffset(window.From - TimeSpan.FromMinutes(10)),
                    To = Timestamp.FromDateTimeOffset(window.To + TimeSpan.FromMinutes(10)),
                };
                var logs = await ReadAsync(parse, addresses, query, cancellationToken).ConfigureAwait(false);
                report = Reconciliation.Compare(logs[0].Node, logs[0].Records, logs[1].Node, logs[1].Records, window.From, window.To);
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(AuditorConnection.JsonOption))
                {
                    output.WriteLine(JsonSerializer.Serialize(new { nodes = logs.Select(l => l.Node), report.Exchanges, report.Matched, report.Unanswered, report.FileDeliveries, report.FilesMatched, report.FilesUndelivered, report.Differences }, Json));
                    return;
                }

                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{logs[0].Node} and {logs[1].Node}: {report.Exchanges} exchanges between them, {report.Matched} logged the same on both, {report.Unanswered} unanswered"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"file deliveries between them: {report.FileDeliveries}, {report.FilesMatched} logged the same on both, {report.FilesUndelivered} without a receipt yet"));
                foreach (var difference in report.Differences)
                {
                    output.WriteLine($"  {difference.Code} message {difference.MessageId}: {difference.Detail}");
                }
            }).ConfigureAwait(false);
            return exit == 0 && report is { IsConsistent: false } ? DisagreeExitCode : exit;
        });
        return command;
    }

    private static Command CreateTrail()
    {
        var nodes = new Option<string[]>("--node") { Description = "Nodes' peer addresses, https://host:port (repeat --node).", Required = true, Arity = ArgumentArity.OneOrMore };
        var subject = new Option<string>("--subject-id") { Description = "The citizen.", Required = true };
        var from = new Option<DateTimeOffset?>("--from") { Description = "At or after this time (ISO 8601)." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Before this time." };
        var command = new Command("trail", "Every exchange that touched one citizen, across the nodes given, oldest first: who asked which agency for what, and the outcome.")
        {
            nodes, subject, from, to, AuditorConnection.AuditorOption,
        };
        AuditorConnection.AddTrustOptions(command);
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var query = new QueryRequest { SubjectId = parse.GetValue(subject)! };
            if (parse.GetValue(from) is { } start)
            {
                query.From = Timestamp.FromDateTimeOffset(start);
            }

            if (parse.GetValue(to) is { } end)
            {
                query.To = Timestamp.FromDateTimeOffset(end);
            }

            var logs = await ReadAsync(parse, parse.GetValue(nodes)!, query, cancellationToken).ConfigureAwait(false);
            var trail = CitizenTrail.Merge(logs);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(AuditorConnection.JsonOption))
            {
                output.WriteLine(JsonSerializer.Serialize(trail, Json));
                return;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"citizen {query.SubjectId}: {trail.Count(e => e.Kind == CitizenTrail.ExchangeKind)} exchanges and {trail.Count(e => e.Kind == CitizenTrail.FileKind)} file deliveries on {logs.Count} nodes"));
            foreach (var entry in trail)
            {
                output.WriteLine(entry.Kind == CitizenTrail.FileKind
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"  {entry.At:yyyy-MM-dd HH:mm:ss}Z  {entry.Client} sent a file of dossier {entry.Issue} to {entry.Service}: {entry.Outcome}  [file {entry.MessageId}, seen on {string.Join(", ", entry.SeenOn)}]")
                    : string.Create(CultureInfo.InvariantCulture,
                        $"  {entry.At:yyyy-MM-dd HH:mm:ss}Z  {entry.Client} asked {entry.Service} (user {entry.UserId}, issue {entry.Issue}): {entry.Outcome}{StreamText(entry.Stream)}  [message {entry.MessageId}, seen on {string.Join(", ", entry.SeenOn)}]"));
            }
        }));
        return command;
    }

    /// <summary>A streamed call's line: one exchange, with its messages each way, its end and its chains (docs/audit.md, "Streamed calls").</summary>
    private static string StreamText(StreamTrail? stream) => stream is null ? string.Empty : string.Create(CultureInfo.InvariantCulture,
        $", streamed: {stream.RequestMessages} request and {stream.ResponseMessages} response message(s), ended {stream.End}, chain {(stream.ChainVerifies ? "verifies" : "DOES NOT VERIFY")}");

    /// <summary>Every record matching <paramref name="query"/> on each node, with the node's own name (from its TLS certificate).</summary>
    private static async Task<List<NodeRecords>> ReadAsync(ParseResult parse, string[] addresses, QueryRequest query, CancellationToken cancellationToken)
    {
        var roots = AuditorConnection.Roots(parse);
        try
        {
            var logs = new List<NodeRecords>();
            foreach (var address in addresses)
            {
                var (channel, certificate) = AuditorConnection.Open(parse, roots, address);
                using (channel)
                using (certificate)
                {
                    var records = new List<RecordSummary>();
                    await foreach (var record in AuditQueries.ReadAllAsync(channel, query, cancellationToken).ConfigureAwait(false))
                    {
                        records.Add(record);
                    }

                    // The node's name: from the messages it sent, else from its signed tree heads.
                    var node = NodeRecords.Sender(records);
                    if (node is null)
                    {
                        var heads = await new AuditService.AuditServiceClient(channel).GetTreeHeadsAsync(new GetTreeHeadsRequest { Limit = 1 }, AuditorConnection.Call(cancellationToken)).ResponseAsync.ConfigureAwait(false);
                        node = heads.Heads.Count > 0 ? TreeHead.Parser.ParseFrom(heads.Heads[0].TreeHead).Node : address;
                    }

                    logs.Add(new NodeRecords(node, records));
                }
            }

            return logs;
        }
        finally
        {
            AuditorConnection.DisposeAll(roots);
        }
    }
}
