// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf.WellKnownTypes;
using Google.Protobuf;
using Grpc.Net.Client;
using ExchangeBus.Node.Audit;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit export</c> (a node's evidence for one exchange, as a bundle) and
/// <c>xbus audit verify-bundle</c> (checks one offline). The bundle is docs/audit.md's.
/// </summary>
internal static class AuditBundleCommands
{
    /// <summary>How often <c>--wait</c> asks again; the node time-stamps once an interval (a minute by default).</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    public static Command CreateExport()
    {
        var messageId = new Option<string?>("--message-id") { Description = "Every record of this exchange the node holds (request and response)." };
        var sequence = new Option<ulong?>("--sequence") { Description = "One record, by its sequence number (a message of a streamed call: every record of the call, the chain that proves it)." };
        var output = new Option<string>("--out") { Description = "The bundle file to write (a zip).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists." };
        var wait = new Option<uint>("--wait") { Description = "Seconds to wait for the records to be covered by a time-stamped tree head (default 0: refuse at once)." };
        var from = new Option<DateTimeOffset?>("--from") { Description = "A window's bundle, for reconciling on another node's console: the exchanges that began at or after this time (ISO 8601), without bodies." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "… and before this time (with --from)." };
        var peer = new Option<string?>("--peer") { Description = "With --from and --to: only the exchanges with this node (INSTANCE/CLASS/MEMBER/NODE)." };
        var command = new Command("export", "Export the evidence of one exchange, or of a window of exchanges, as a bundle that verifies offline, with xbus or openssl.")
        {
            messageId, sequence, output, force, wait, from, to, peer,
        };
        AuditorConnection.AddRemoteOptions(command);
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var id = parse.GetValue(messageId);
            var seq = parse.GetValue(sequence);
            var window = parse.GetValue(from) is { } start && parse.GetValue(to) is { } end ? new BundleWindow(start.ToUniversalTime(), end.ToUniversalTime(), parse.GetValue(peer)) : null;
            if ((id is null ? 0 : 1) + (seq is null ? 0 : 1) + (window is null ? 0 : 1) != 1 || (window is null && (parse.GetValue(from) ?? parse.GetValue(to)) is not null))
            {
                throw new CliException("Cli.InvalidArguments", "Give exactly one of --message-id ID, --sequence N, and --from TIME --to TIME.");
            }

            var outPath = parse.GetValue(output)!;
            if (File.Exists(outPath) && !parse.GetValue(force))
            {
                throw new PkiException(PkiErrors.FileAlreadyExists, $"{outPath} exists; give --force to replace it.");
            }

            var roots = AuditorConnection.Roots(parse);
            try
            {
                var deadline = DateTimeOffset.UtcNow.AddSeconds(parse.GetValue(wait));
                var evidence = await AuditRemoteCommands.WithChannel(
                    parse, channel => window is null ? FetchAsync(channel, id, seq, deadline, cancellationToken) : FetchWindowAsync(channel, window, deadline, cancellationToken), roots).ConfigureAwait(false);
                var bundle = window is null ? EvidenceBundle.Build(evidence, roots) : EvidenceBundle.BuildWindow(evidence, roots, window);
                // Owner-only: a bundle holds the exchange's bodies, personal data.
                AtomicFile.WriteOwnerOnly(outPath, bundle);

                // What was written is checked as a third party would; a bundle that does not verify is still
                // written (it is evidence of that), and the command fails with the problems.
                using var stream = new MemoryStream(bundle, writable: false);
                var result = new EvidenceBundleVerifier(roots, TimeProvider.System).Verify(stream);
                Report(parse, result, Path.GetFullPath(outPath), Convert.ToHexStringLower(SHA256.HashData(bundle)));
            }
            finally
            {
                AuditorConnection.DisposeAll(roots);
            }
        }));
        return command;
    }

    public static Command CreateVerify()
    {
        var file = new Argument<string>("FILE") { Description = "The bundle (zip) from `xbus audit export`." };
        var command = new Command("verify-bundle", "Check an evidence bundle offline: manifest, record hashes, signatures, certificates, OCSP, inclusion proofs, tree heads and time-stamps.")
        {
            file,
        };
        AuditorConnection.AddTrustOptions(command);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new PkiException(PkiErrors.FileNotFound, $"{path} does not exist.");
            }

            var roots = AuditorConnection.Roots(parse);
            try
            {
                Report(parse, new EvidenceBundleVerifier(roots, TimeProvider.System).Verify(path), Path.GetFullPath(path), null);
            }
            finally
            {
                AuditorConnection.DisposeAll(roots);
            }
        }));
        return command;
    }

    /// <summary>
    /// The records a window's bundle holds, as the node console's export reads them (<see cref="LogWindow"/>):
    /// requests, responses, file manifests and receipts with the peer's member (or anyone), the margin either side.
    /// </summary>
    private static async Task<List<RecordEvidence>> FetchWindowAsync(GrpcChannel channel, BundleWindow window, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        string? member = null;
        if (window.Peer is { } peer)
        {
            member = NodeId.TryParse(peer, out var node) ? node.Owner.ToString() : throw new CliException(ReconcileErrors.InvalidPeer, $"'{peer}' is not a node identifier (INSTANCE/CLASS/MEMBER/NODE).");
        }

        var query = new QueryRequest
        {
            From = Timestamp.FromDateTimeOffset(window.From - LogWindow.Margin),
            To = Timestamp.FromDateTimeOffset(window.To + LogWindow.Margin),
            PageSize = 1_000,
        };
        var page = await AuditRemoteCommands.QueryAllAsync(channel, query, cancellationToken).ConfigureAwait(false);
        var sequences = page.Records
            .Where(r => LogWindow.Compared((MessageDirection)r.Direction) && (member is null || MessageLogQuery.BelongsTo(r.Client, member) || MessageLogQuery.BelongsTo(r.Service, member)))
            .Select(r => r.Sequence).Order().ToList();
        return sequences.Count == 0
            ? throw new CliException(ReconcileErrors.WindowEmpty, "The node holds no record of an exchange in the window that this auditor may see.")
            : await EvidenceAsync(channel, sequences, deadline, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The evidence of every record asked for, once each is covered by a time-stamped head (or the deadline has passed).</summary>
    private static async Task<List<RecordEvidence>> FetchAsync(GrpcChannel channel, string? messageId, ulong? sequence, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        List<ulong> sequences;
        var streamed = sequence is { } asked ? await StreamedMessageIdAsync(channel, asked, cancellationToken).ConfigureAwait(false) : null;
        if (sequence is { } one && streamed is null)
        {
            sequences = [one];
        }
        else
        {
            // A streamed message proves its place in the stream only with the whole chain: a record of one exports them all.
            messageId ??= streamed;
            var page = await AuditRemoteCommands.QueryAllAsync(channel, new QueryRequest { MessageId = messageId ?? string.Empty, PageSize = 1_000 }, cancellationToken).ConfigureAwait(false);
            sequences = [.. page.Records.Select(r => r.Sequence).Order()];
            if (sequences.Count == 0)
            {
                throw new CliException(AuditErrors.RecordNotFound, $"The node holds no record of message {messageId} that this auditor may see.");
            }
        }

        return await EvidenceAsync(channel, sequences, deadline, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<RecordEvidence>> EvidenceAsync(GrpcChannel channel, List<ulong> sequences, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var evidence = new List<RecordEvidence>();
        foreach (var s in sequences)
        {
            while (true)
            {
                var record = await new AuditService.AuditServiceClient(channel).GetRecordAsync(new GetRecordRequest { Sequence = s }, AuditorConnection.Call(cancellationToken)).ResponseAsync.ConfigureAwait(false);
                if (record.TreeHead is not null)
                {
                    evidence.Add(record);
                    break;
                }

                if (DateTimeOffset.UtcNow + PollInterval > deadline)
                {
                    throw new CliException(EvidenceBundleErrors.NotTimeStamped,
                        $"Record {s} is not yet covered by a time-stamped tree head (the node stamps its log once an interval); have the node stamp it now with `xbus audit stamp`, try again later, or give --wait SECONDS.");
                }

                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }

        return evidence;
    }

    /// <summary>The message id of record <paramref name="sequence"/> when it is a link of a streamed call, else null.</summary>
    private static async Task<string?> StreamedMessageIdAsync(GrpcChannel channel, ulong sequence, CancellationToken cancellationToken)
    {
        var evidence = await new AuditService.AuditServiceClient(channel).GetRecordAsync(new GetRecordRequest { Sequence = sequence }, AuditorConnection.Call(cancellationToken)).ResponseAsync.ConfigureAwait(false);
        try
        {
            return evidence.Record.Header.IsEmpty || !MessageHeader.Parser.ParseFrom(evidence.Record.Header).Streamed ? null : evidence.Record.MessageId;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static Dictionary<string, object> Head(EvidenceBundleVerification result, ulong size, string at)
    {
        var head = new Dictionary<string, object> { ["tree_size"] = size, ["time_stamped_at"] = at };
        if (result.LastStamps.TryGetValue(size, out var last))
        {
            head["renewals"] = result.Renewals.GetValueOrDefault(size);
            head["last_time_stamp"] = last.File;
            head["renew_before"] = last.TsaNotAfter.ToString("O", CultureInfo.InvariantCulture);
        }

        return head;
    }

    private static void Report(ParseResult parse, EvidenceBundleVerification result, string path, string? sha256)
    {
        var text = parse.InvocationConfiguration.Output;
        var heads = result.HeadTimes.OrderBy(h => h.Key).Select(h => (Size: h.Key, At: h.Value.ToString("O", CultureInfo.InvariantCulture))).ToList();
        if (parse.GetValue(AuditorConnection.JsonOption))
        {
            var json = new Dictionary<string, object?>
            {
                ["file"] = path,
                ["valid"] = result.IsValid,
                ["message_id"] = result.MessageId,
                ["node"] = result.Node,
                ["records"] = result.Records,
                ["heads"] = heads.Select(h => Head(result, h.Size, h.At)),
                ["warnings"] = result.Warnings,
                ["problems"] = result.Problems.Select(p => new Dictionary<string, string> { ["code"] = p.Code, ["file"] = p.File, ["message"] = p.Message }),
            };
            if (sha256 is not null)
            {
                json["sha256"] = sha256;
            }

            text.WriteLine(JsonSerializer.Serialize(json));
        }
        else
        {
            text.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{path}: message {result.MessageId ?? "?"} of node {result.Node ?? "?"}, record(s) {string.Join(", ", result.Records)}"));
            if (sha256 is not null)
            {
                text.WriteLine($"  sha256 {sha256}");
            }

            foreach (var (size, at) in heads)
            {
                text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  tree head of size {size}, time-stamped {at}"));
                if (result.Renewals.GetValueOrDefault(size) > 0 && result.LastStamps.TryGetValue(size, out var last))
                {
                    text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    renewed {result.Renewals[size]} time(s), last {last.File} at {last.GenTime:O}"));
                }
            }

            // Not a failure: the bundle holds today; it needs a renewal to keep holding (docs/audit.md, "Renewing evidence").
            foreach (var warning in result.Warnings)
            {
                parse.InvocationConfiguration.Error.WriteLine("warning: " + warning);
            }

            text.WriteLine(result.IsValid ? "verified: every check passed" : $"NOT verified: {result.Problems.Count} problem(s)");
        }

        if (!result.IsValid)
        {
            var error = parse.InvocationConfiguration.Error;
            foreach (var problem in result.Problems)
            {
                error.WriteLine($"  {problem}");
            }

            throw new CliException(result.Code!, $"The bundle does not verify: {result.Problems[0]}");
        }
    }
}
