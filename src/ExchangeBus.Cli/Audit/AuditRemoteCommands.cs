// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Audit.V1;
using Grpc.Net.Client;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit query</c> and <c>xbus audit record</c>: an auditor reads a node's message log
/// over the node's audit API (every call is itself logged by the node).
/// </summary>
internal static class AuditRemoteCommands
{
    internal static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    public static Command CreateQuery()
    {
        var from = new Option<DateTimeOffset?>("--from") { Description = "Records at or after this time (ISO 8601, e.g. 2030-01-15T12:00:00Z)." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Records before this time." };
        var client = new Option<string?>("--client") { Description = "The client subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM." };
        var service = new Option<string?>("--service") { Description = "The service, INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE/VERSION." };
        var messageId = new Option<string?>("--message-id") { Description = "The exchange's message id." };
        var userId = new Option<string?>("--user-id") { Description = "The official who made the call." };
        var subjectId = new Option<string?>("--subject-id") { Description = "The citizen the data is about." };
        var status = new Option<string?>("--status") { Description = "OK or an error code." };
        var pageSize = new Option<uint>("--page-size") { Description = "Records a page, at most 1,000 (default 100)." };
        var pageToken = new Option<string?>("--page-token") { Description = "From the previous page's output." };
        var all = new Option<bool>("--all") { Description = "Follow the pages to the end." };
        var command = new Command("query", "Records of a node's message log matching every filter given, oldest first.")
        {
            from, to, client, service, messageId, userId, subjectId, status, pageSize, pageToken, all,
        };
        AuditorConnection.AddRemoteOptions(command);
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            if (parse.GetValue(all) && parse.GetValue(pageToken) is not null)
            {
                throw new CliException("Cli.InvalidArguments", "--all starts from the first page; leave out --page-token.");
            }

            var request = new QueryRequest
            {
                From = parse.GetValue(from) is { } f ? Timestamp.FromDateTimeOffset(f) : null,
                To = parse.GetValue(to) is { } t ? Timestamp.FromDateTimeOffset(t) : null,
                Client = parse.GetValue(client) ?? string.Empty,
                Service = parse.GetValue(service) ?? string.Empty,
                MessageId = parse.GetValue(messageId) ?? string.Empty,
                UserId = parse.GetValue(userId) ?? string.Empty,
                SubjectId = parse.GetValue(subjectId) ?? string.Empty,
                Status = parse.GetValue(status) ?? string.Empty,
                PageSize = parse.GetValue(pageSize),
                PageToken = parse.GetValue(pageToken) ?? string.Empty,
            };
            var result = await WithChannel(parse, channel => parse.GetValue(all)
                ? QueryAllAsync(channel, request, cancellationToken)
                : new AuditService.AuditServiceClient(channel).QueryAsync(request, AuditorConnection.Call(cancellationToken)).ResponseAsync).ConfigureAwait(false);

            var text = parse.InvocationConfiguration.Output;
            if (parse.GetValue(AuditorConnection.JsonOption))
            {
                text.WriteLine(Json.Format(result));
                return;
            }

            foreach (var r in result.Records)
            {
                var subject = r.SubjectId.Length == 0 ? string.Empty : $" subject {r.SubjectId}";
                text.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Sequence,8}  {r.At.ToDateTimeOffset():yyyy-MM-ddTHH:mm:ss.fffZ}  {(MessageDirection)r.Direction,-16}  {r.Status,-10}  {r.Client} -> {r.Service}  {r.MessageId}{subject}"));
            }

            text.WriteLine(result.NextPageToken.Length == 0
                ? $"{result.Records.Count} record(s); last page."
                : $"{result.Records.Count} record(s); next page: --page-token {result.NextPageToken}");
        }));
        return command;
    }

    public static Command CreateRecord()
    {
        var sequence = new Argument<ulong>("SEQ") { Description = "The record's sequence number in the node's log." };
        var command = new Command("record", "One record with its evidence: signer certificate, OCSP response, tree head and inclusion proof.") { sequence };
        AuditorConnection.AddRemoteOptions(command);
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var evidence = await WithChannel(parse, channel =>
                new AuditService.AuditServiceClient(channel).GetRecordAsync(new GetRecordRequest { Sequence = parse.GetValue(sequence) }, AuditorConnection.Call(cancellationToken)).ResponseAsync).ConfigureAwait(false);
            var text = parse.InvocationConfiguration.Output;
            if (parse.GetValue(AuditorConnection.JsonOption))
            {
                text.WriteLine(Json.Format(evidence));
                return;
            }

            var r = evidence.Record;
            text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"record {r.Sequence}: {(MessageDirection)r.Direction} of message {r.MessageId}, {r.Status}"));
            text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  at:        {DateTimeOffset.FromUnixTimeMilliseconds(r.AtUnixMs):O}"));
            text.WriteLine($"  client:    {r.Client}");
            text.WriteLine($"  service:   {r.Service}");
            text.WriteLine($"  user:      {r.UserId}");
            text.WriteLine($"  subject:   {(r.SubjectId.Length == 0 ? "(none)" : r.SubjectId)}");
            text.WriteLine($"  body:      {(r.BodyLogged ? $"{r.Body.Length} bytes logged" : "hash only")}, sha256 {Convert.ToHexStringLower(r.BodySha256.Span)}");
            text.WriteLine($"  hash:      {Convert.ToHexStringLower(r.Hash.Span)}");
            if (!evidence.SignerCertificate.IsEmpty)
            {
                using var signer = X509CertificateLoader.LoadCertificate(evidence.SignerCertificate.Span);
                text.WriteLine($"  signer:    {signer.Subject}");
            }

            text.WriteLine($"  ocsp:      {(evidence.OcspResponse.IsEmpty ? "none" : $"{evidence.OcspResponse.Length} bytes")}");
            text.WriteLine(evidence.TreeHead is null
                ? "  evidence:  not yet covered by a time-stamped tree head"
                : string.Create(CultureInfo.InvariantCulture, $"  evidence:  in the time-stamped head of size {evidence.Inclusion.TreeSize}, proof of {evidence.Inclusion.Hashes.Count} hashes"));
        }));
        return command;
    }

    /// <summary>Runs <paramref name="call"/> over a channel to the node, disposing the channel, certificate and roots after.</summary>
    internal static async Task<T> WithChannel<T>(ParseResult parse, Func<GrpcChannel, Task<T>> call, X509Certificate2[]? roots = null)
    {
        var owned = roots is null;
        roots ??= AuditorConnection.Roots(parse);
        try
        {
            var (channel, certificate) = AuditorConnection.Open(parse, roots);
            using (channel)
            using (certificate)
            {
                return await call(channel).ConfigureAwait(false);
            }
        }
        finally
        {
            if (owned)
            {
                AuditorConnection.DisposeAll(roots);
            }
        }
    }

    /// <summary>Every page of <paramref name="request"/>, in one response.</summary>
    internal static async Task<QueryResponse> QueryAllAsync(GrpcChannel channel, QueryRequest request, CancellationToken cancellationToken)
    {
        var all = new QueryResponse();
        var page = request.Clone();
        do
        {
            var response = await new AuditService.AuditServiceClient(channel).QueryAsync(page, AuditorConnection.Call(cancellationToken)).ResponseAsync.ConfigureAwait(false);
            all.Records.AddRange(response.Records);
            page.PageToken = response.NextPageToken;
        }
        while (page.PageToken.Length > 0);
        return all;
    }
}
