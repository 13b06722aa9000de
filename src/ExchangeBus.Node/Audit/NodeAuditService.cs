// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Trust;
using System.Security.Cryptography;

namespace ExchangeBus.Node.Audit;

/// <summary>Stable codes of the audit API.</summary>
public static class AuditErrors
{
    public const string NotAuditor = "Audit.NotAuditor";
    public const string OutOfScope = "Audit.OutOfScope";
    public const string NationalOnly = "Audit.NationalAuditorOnly";
    public const string RecordNotFound = "Audit.RecordNotFound";
    public const string InvalidArgument = "Audit.InvalidArgument";
    public const string InvalidPageToken = "Audit.InvalidPageToken";
    public const string NotLogged = "Audit.NotLogged";
    public const string AuditorRevoked = "Audit.AuditorRevoked";
    public const string AuditorStatusUnknown = "Audit.AuditorStatusUnknown";
    public const string AuditorStatusUnavailable = "Audit.AuditorStatusUnavailable";
    public const string RateLimited = "Audit.RateLimited";

    /// <summary>A stamp asked for now could not be made (the TSA did not answer, say); the node's loop retries on its own.</summary>
    public const string TimeStampingFailed = "Audit.TimeStampingFailed";

    /// <summary>A stamp asked for on a log that holds no record yet: there is nothing to stamp.</summary>
    public const string NothingToStamp = "Audit.NothingToStamp";
}

/// <summary>
/// Evidence for auditors, on the inter-node (mutual TLS) listener: the caller's certificate must
/// chain to a CA of the configuration (the TLS layer checks that), be an auditor certificate of
/// this instance, and be good by its CA's OCSP responder (<see cref="PeerCertificateStatus"/>).
/// A member auditor sees the records of exchanges its member took part in; a national auditor
/// sees all, and alone may read whole ranges (which hold every member's records). Tree heads and
/// proofs are not personal data: any auditor may have them. Every call, answered or refused, is
/// itself a record of the message log, written before the answer: an auditor's with the request
/// it made; anyone else's (not an auditor, or an auditor whose certificate is not good) as a short
/// record of who (the node whose authentication certificate it is) and which method, without the
/// request, so a stranger cannot grow the log by more than that. Strangers are also rate-limited
/// per certificate (<see cref="AuditCallerRateLimit"/>) before any of this runs.
/// </summary>
public sealed partial class NodeAuditService(
    NodeId nodeId, SqliteMessageLog messageLog, TreeHeadStamper stamper, GlobalConfigurationProvider configuration, PeerCertificateStatus certificateStatus,
    NodeMetrics metrics, IHostApplicationLifetime lifetime, ILogger<NodeAuditService> logger) : AuditService.AuditServiceBase
{
    public override Task<QueryResponse> Query(QueryRequest request, ServerCallContext context) =>
        RunAsync(context, "Query", request, auditor => Query(auditor, request));

    public override Task<RecordEvidence> GetRecord(GetRecordRequest request, ServerCallContext context) =>
        RunAsync(context, "GetRecord", request, auditor => GetRecord(auditor, request));

    public override Task<GetTreeHeadsResponse> GetTreeHeads(GetTreeHeadsRequest request, ServerCallContext context) =>
        RunAsync(context, "GetTreeHeads", request, _ => GetTreeHeads(request));

    public override Task<ConsistencyProof> GetConsistencyProof(GetConsistencyProofRequest request, ServerCallContext context) =>
        RunAsync(context, "GetConsistencyProof", request, _ => GetConsistencyProof(request));

    public override Task<ReadRangeResponse> ReadRange(ReadRangeRequest request, ServerCallContext context) =>
        RunAsync(context, "ReadRange", request, auditor => ReadRange(auditor, request));

    public override Task<StampTreeHeadResponse> StampTreeHead(StampTreeHeadRequest request, ServerCallContext context) =>
        RunAsync(context, "StampTreeHead", request, _ => StampTreeHeadAsync());

    private Task<TResponse> RunAsync<TRequest, TResponse>(ServerCallContext context, string method, TRequest request, Func<AuditorIdentity, TResponse> answer)
        where TRequest : IMessage =>
        RunAsync(context, method, request, auditor => Task.FromResult(answer(auditor)));

    private async Task<TResponse> RunAsync<TRequest, TResponse>(ServerCallContext context, string method, TRequest request, Func<AuditorIdentity, Task<TResponse>> answer)
        where TRequest : IMessage
    {
        var correlationId = context.CorrelationId;
        var certificate = context.ClientCertificate;
        var auditor = certificate is null ? null : AuditorOf(certificate, nodeId);

        // Who the caller is, before anything about what it asked: a stranger's request, however
        // large, is neither read further nor kept.
        if (certificate is null || auditor is null)
        {
            throw await RefuseUnauthorizedAsync(method, certificate, null, new NodeException(StatusCode.PermissionDenied, AuditErrors.NotAuditor,
                "The audit API answers holders of an auditor certificate of this instance only."), correlationId).ConfigureAwait(false);
        }

        if (await StatusRefusalAsync(certificate, context.CancellationToken).ConfigureAwait(false) is { } refusal)
        {
            throw await RefuseUnauthorizedAsync(method, certificate, auditor, refusal, correlationId).ConfigureAwait(false);
        }

        TResponse response;
        try
        {
            response = await answer(auditor).ConfigureAwait(false);
        }
        catch (NodeException ex)
        {
            await LogQueryAsync(method, request, auditor, certificate, ex.Code, correlationId).ConfigureAwait(false);
            Refused(method, ex.Code, correlationId);
            throw ex.ToRpc(correlationId);
        }
        catch (ArgumentOutOfRangeException)
        {
            await LogQueryAsync(method, request, auditor, certificate, AuditErrors.InvalidArgument, correlationId).ConfigureAwait(false);
            Refused(method, AuditErrors.InvalidArgument, correlationId);
            throw RichStatus.Error(StatusCode.InvalidArgument, AuditErrors.InvalidArgument, "A size or sequence number is out of range for this log.", correlationId);
        }

        await LogQueryAsync(method, request, auditor, certificate, MessageLogRecord.StatusOk, correlationId).ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// The auditor a certificate names when it is an auditor certificate of <paramref name="node"/>'s
    /// instance, else null: whom this API answers, once the chain (the TLS layer) and the OCSP status
    /// are good too. The console's certificate login asks the same (<c>NodeConsoleCertificates</c>).
    /// </summary>
    internal static AuditorIdentity? AuditorOf(X509Certificate2 certificate, NodeId node) =>
        AuditorIdentity.TryRead(certificate) is { } auditor && string.Equals(auditor.Instance, node.Owner.Instance, StringComparison.Ordinal) ? auditor : null;

    /// <summary>Null when the auditor certificate is good by its CA's responder; otherwise the refusal.</summary>
    private async Task<NodeException?> StatusRefusalAsync(X509Certificate2 certificate, CancellationToken cancellationToken) =>
        await certificateStatus.CheckAsync(certificate, cancellationToken).ConfigureAwait(false) switch
        {
            OcspCertificateStatus.Good => null,
            OcspCertificateStatus.Revoked => new NodeException(StatusCode.PermissionDenied, AuditErrors.AuditorRevoked,
                "The auditor certificate is revoked: its CA's OCSP responder says so."),
            OcspCertificateStatus.Unknown => new NodeException(StatusCode.PermissionDenied, AuditErrors.AuditorStatusUnknown,
                "The auditor certificate's CA's OCSP responder does not know it."),
            _ => new NodeException(StatusCode.Unavailable, AuditErrors.AuditorStatusUnavailable,
                "The auditor certificate's status could not be had from its CA's OCSP responder; try again later."),
        };

    /// <summary>
    /// A refusal of a caller the node does not answer at all, logged as a short record of bounded
    /// size: who (the auditor, the node whose authentication certificate it is, or the
    /// certificate's hash), which method, the code; not the request.
    /// </summary>
    private async Task<RpcException> RefuseUnauthorizedAsync(string method, X509Certificate2? certificate, AuditorIdentity? auditor, NodeException refusal, string correlationId)
    {
        await AppendAsync(method, auditor is not null ? AuditorName(auditor) : CallerName(certificate), auditor?.Name ?? string.Empty, refusal.Code, [], certificate, correlationId)
            .ConfigureAwait(false);
        Refused(method, refusal.Code, correlationId);
        return refusal.ToRpc(correlationId);
    }

    /// <summary>A caller that is not an auditor, by the node the configuration lists its certificate for, or by the certificate's hash.</summary>
    private string CallerName(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return "unauthenticated";
        }

        return configuration.Latest?.FindNodeByAuthCertificate(certificate) is { } node
            ? $"node:{node.Id}"
            : $"certificate:{Convert.ToHexStringLower(SHA256.HashData(certificate.RawData))}";
    }

    private static string AuditorName(AuditorIdentity auditor) => auditor.Scope == AuditorScope.National ? $"auditor:{auditor.Instance}" : $"auditor:{auditor.Member}";

    private void Refused(string method, string code, string correlationId)
    {
        metrics.AuditRefused(code);
        Log.Refused(logger, method, code, correlationId);
    }

    /// <summary>An auditor's query goes into the tamper-evident log: who asked, what, and the outcome.</summary>
    private Task LogQueryAsync(string method, IMessage request, AuditorIdentity auditor, X509Certificate2 certificate, string status, string correlationId) =>
        AppendAsync(method, AuditorName(auditor), auditor.Name, status, request.ToByteArray(), certificate, correlationId);

    private async Task AppendAsync(string method, string client, string userId, string status, byte[] request, X509Certificate2? certificate, string correlationId)
    {
        var record = new MessageLogRecord
        {
            MessageId = correlationId,
            Direction = MessageDirection.AuditQuery,
            Client = client,
            Service = $"audit/{method}",
            UserId = userId,
            Status = status,
            Header = request,
            Body = null,
            BodySha256 = SHA256.HashData(ReadOnlySpan<byte>.Empty),
            Signature = [],
            SignerCertificateSha256 = certificate is null ? null : SHA256.HashData(certificate.RawData),
            SignerCertificate = certificate?.RawData,
            CorrelationId = correlationId,
        };
        try
        {
            await messageLog.AppendAsync(record).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ObjectDisposedException or MessageLogIntegrityException or Microsoft.Data.Sqlite.SqliteException)
        {
            // An audit query nobody can later see was asked is not answered.
            throw RichStatus.Error(StatusCode.Unavailable, AuditErrors.NotLogged, "The query could not be written to the message log, so it is not answered.", correlationId);
        }
    }

    private QueryResponse Query(AuditorIdentity auditor, QueryRequest request)
    {
        MessageLogCursor? after = null;
        if (request.PageToken.Length > 0)
        {
            after = MessageLogCursor.TryParse(request.PageToken, out var cursor)
                ? cursor
                : throw new NodeException(StatusCode.InvalidArgument, AuditErrors.InvalidPageToken, "The page token is not one this node gave out.");
        }

        if (request.PageSize > MessageLogQuery.MaxPageSize)
        {
            throw new NodeException(StatusCode.InvalidArgument, AuditErrors.InvalidArgument, $"At most {MessageLogQuery.MaxPageSize} records a page.");
        }

        var page = messageLog.Reader.Query(new MessageLogQuery
        {
            From = request.From?.ToDateTimeOffset(),
            To = request.To?.ToDateTimeOffset(),
            Client = Optional(request.Client),
            Service = Optional(request.Service),
            MessageId = Optional(request.MessageId),
            UserId = Optional(request.UserId),
            SubjectId = Optional(request.SubjectId),
            Status = Optional(request.Status),
            PartyMember = auditor.Scope == AuditorScope.National ? null : auditor.Member!.ToString(),
            PageSize = request.PageSize == 0 ? MessageLogQuery.DefaultPageSize : (int)request.PageSize,
            After = after,
        });
        var response = new QueryResponse { NextPageToken = page.Next?.Format() ?? string.Empty };
        response.Records.AddRange(page.Records.Select(AuditEvidence.ToProto));
        return response;
    }

    private RecordEvidence GetRecord(AuditorIdentity auditor, GetRecordRequest request)
    {
        var evidence = messageLog.Reader.GetEvidence((long)request.Sequence)
            ?? throw new NodeException(StatusCode.NotFound, AuditErrors.RecordNotFound, $"There is no record {request.Sequence}.");
        if (!MaySee(auditor, evidence.Entry.Record))
        {
            throw new NodeException(StatusCode.PermissionDenied, AuditErrors.OutOfScope, $"Record {request.Sequence} is not of an exchange {auditor.Member} took part in.");
        }

        return AuditEvidence.ToProto(evidence, messageLog.Reader);
    }

    private GetTreeHeadsResponse GetTreeHeads(GetTreeHeadsRequest request)
    {
        var limit = request.Limit is 0 ? 100 : (int)Math.Min(request.Limit, 1_000);
        var heads = messageLog.Reader.TreeHeads((long)request.FromSize, request.ToSize == 0 ? long.MaxValue : (long)request.ToSize, limit);
        var response = new GetTreeHeadsResponse();
        response.Heads.AddRange(heads.Select(AuditEvidence.ToProto));
        return response;
    }

    private ConsistencyProof GetConsistencyProof(GetConsistencyProofRequest request)
    {
        var proof = new ConsistencyProof { FirstSize = request.FirstSize, SecondSize = request.SecondSize };
        proof.Hashes.AddRange(messageLog.Reader.ConsistencyProof((long)request.FirstSize, (long)request.SecondSize).Select(ByteString.CopyFrom));
        return proof;
    }

    /// <summary>
    /// A round of the node's own stamper, now, through the last record written before the call.
    /// It is not cut short by the caller going away (a head made is a head kept, and every call's
    /// outcome is logged), only by the node stopping, whose final round then covers the records.
    /// </summary>
    private async Task<StampTreeHeadResponse> StampTreeHeadAsync()
    {
        var through = messageLog.LastSequence();
        if (through == 0)
        {
            throw new NodeException(StatusCode.FailedPrecondition, AuditErrors.NothingToStamp, "This node's message log holds no record yet: there is nothing to time-stamp.");
        }

        string? failure;
        try
        {
            failure = (await stamper.StampThroughAsync(through, lifetime.ApplicationStopping).ConfigureAwait(false)).Failure;
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            failure = "NodeStopping";
        }
        catch (Exception ex) when (ex is MessageLogIntegrityException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            failure = ex.GetType().Name;
        }

        if (failure is not null || messageLog.Reader.LatestTreeHead() is not { } head || head.TreeSize < through)
        {
            throw new NodeException(StatusCode.Unavailable, AuditErrors.TimeStampingFailed,
                $"No time-stamped tree head could be made now ({failure ?? "NotCovered"}); the node keeps trying once an interval, and on a graceful stop.");
        }

        return new StampTreeHeadResponse { Head = AuditEvidence.ToProto(head) };
    }

    private ReadRangeResponse ReadRange(AuditorIdentity auditor, ReadRangeRequest request)
    {
        if (auditor.Scope != AuditorScope.National)
        {
            throw new NodeException(StatusCode.PermissionDenied, AuditErrors.NationalOnly,
                "A range holds every member's records: only a national auditor reads ranges. Member auditors fetch records with their proofs.");
        }

        if (request.FromSequence == 0)
        {
            throw new NodeException(StatusCode.InvalidArgument, AuditErrors.InvalidArgument, "Sequences start at 1.");
        }

        var limit = request.Limit is 0 ? 500 : (int)Math.Min(request.Limit, 1_000);
        var range = messageLog.Reader.ReadRange((long)request.FromSequence, request.ToSequence == 0 ? long.MaxValue : (long)request.ToSequence, limit);
        var response = new ReadRangeResponse { NextSequence = (ulong)range.NextSequence };
        response.Records.AddRange(range.Entries.Select(AuditEvidence.ToProto));
        response.Certificates.AddRange(range.CertificatesBySha256Hex.Values.Select(ByteString.CopyFrom));
        return response;
    }

    private static bool MaySee(AuditorIdentity auditor, MessageLogRecord record)
    {
        if (auditor.Scope == AuditorScope.National)
        {
            return true;
        }

        var member = auditor.Member!.ToString();
        return MessageLogQuery.BelongsTo(record.Client, member) || MessageLogQuery.BelongsTo(record.Service, member);
    }

    private static string? Optional(string value) => value.Length == 0 ? null : value;

    private static partial class Log
    {
        [LoggerMessage(4700, LogLevel.Warning, "Audit {Method} refused: {Code} (correlation id {CorrelationId})")]
        public static partial void Refused(ILogger logger, string method, string code, string correlationId);
    }
}

/// <summary>Log entries and tree heads as the audit protocol carries them.</summary>
public static class AuditEvidence
{
    /// <summary>A record's searchable columns as the audit protocol carries them (the audit API's query, the console's trail).</summary>
    public static RecordSummary ToProto(MessageLogSummary r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new RecordSummary
        {
            Sequence = (ulong)r.Sequence,
            At = Timestamp.FromDateTimeOffset(r.At),
            MessageId = r.MessageId,
            Direction = (uint)r.Direction,
            Client = r.Client,
            Service = r.Service,
            UserId = r.UserId,
            SubjectId = r.SubjectId ?? string.Empty,
            Issue = r.Issue,
            Status = r.Status,
            Hash = ByteString.CopyFrom(r.Hash),
            BodySha256 = ByteString.CopyFrom(r.BodySha256),
            Signature = ByteString.CopyFrom(r.Signature),
            SenderNode = SenderNode(r),
            Header = ByteString.CopyFrom(r.Header),
        };
    }

    private static string SenderNode(MessageLogSummary record)
    {
        if (record.Direction == MessageDirection.AuditQuery || record.Header.Length == 0)
        {
            return string.Empty;
        }

        try
        {
            return Contracts.Exchange.V1.MessageHeader.Parser.ParseFrom(record.Header).SenderNode;
        }
        catch (InvalidProtocolBufferException)
        {
            return string.Empty;
        }
    }

    public static Record ToProto(MessageLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var r = entry.Record;
        return new Record
        {
            Sequence = (ulong)entry.Sequence,
            AtUnixMs = r.At.ToUnixTimeMilliseconds(),
            MessageId = r.MessageId,
            Direction = (uint)r.Direction,
            Client = r.Client,
            Service = r.Service,
            UserId = r.UserId,
            SubjectId = r.SubjectId ?? string.Empty,
            Issue = r.Issue,
            Status = r.Status,
            Header = ByteString.CopyFrom(r.Header),
            Body = r.Body is null ? ByteString.Empty : ByteString.CopyFrom(r.Body),
            BodyLogged = r.Body is not null,
            BodySha256 = ByteString.CopyFrom(r.BodySha256),
            Signature = ByteString.CopyFrom(r.Signature),
            SignerCertificateSha256 = r.SignerCertificateSha256 is null ? ByteString.Empty : ByteString.CopyFrom(r.SignerCertificateSha256),
            CorrelationId = r.CorrelationId,
            PrevHash = ByteString.CopyFrom(entry.PreviousHash),
            Hash = ByteString.CopyFrom(entry.Hash),
        };
    }

    /// <summary>The stored entry a <see cref="Record"/> carries (for recomputing its hash).</summary>
    public static MessageLogEntry FromProto(Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new MessageLogEntry(
            (long)record.Sequence,
            new MessageLogRecord
            {
                At = DateTimeOffset.FromUnixTimeMilliseconds(record.AtUnixMs),
                MessageId = record.MessageId,
                Direction = (MessageDirection)record.Direction,
                Client = record.Client,
                Service = record.Service,
                UserId = record.UserId,
                SubjectId = record.SubjectId.Length == 0 ? null : record.SubjectId,
                Issue = record.Issue,
                Status = record.Status,
                Header = record.Header.ToByteArray(),
                Body = record.BodyLogged ? record.Body.ToByteArray() : null,
                BodySha256 = record.BodySha256.ToByteArray(),
                Signature = record.Signature.ToByteArray(),
                SignerCertificateSha256 = record.SignerCertificateSha256.IsEmpty ? null : record.SignerCertificateSha256.ToByteArray(),
                CorrelationId = record.CorrelationId,
            },
            record.PrevHash.ToByteArray(),
            record.Hash.ToByteArray());
    }

    public static SignedTreeHead ToProto(StoredTreeHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return new SignedTreeHead
        {
            TreeHead = ByteString.CopyFrom(head.TreeHead),
            Signature = ByteString.CopyFrom(head.Signature),
            SignerCertificate = ByteString.CopyFrom(head.SignerCertificate),
            TimeStampToken = ByteString.CopyFrom(head.TimeStampToken),
        };
    }

    /// <summary>A record with its certificate, OCSP response, and inclusion proof in the first head that covers it.</summary>
    public static RecordEvidence ToProto(MessageLogEvidence evidence, MessageLogReader reader)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(reader);
        var result = new RecordEvidence
        {
            Record = ToProto(evidence.Entry),
            SignerCertificate = evidence.SignerCertificate is null ? ByteString.Empty : ByteString.CopyFrom(evidence.SignerCertificate),
            OcspResponse = evidence.OcspResponse is null ? ByteString.Empty : ByteString.CopyFrom(evidence.OcspResponse),
        };
        if (reader.FirstTreeHeadCovering(evidence.Entry.Sequence) is { } head)
        {
            result.TreeHead = ToProto(head);
            result.Inclusion = new InclusionProof { LeafIndex = (ulong)(evidence.Entry.Sequence - 1), TreeSize = (ulong)head.TreeSize };
            result.Inclusion.Hashes.AddRange(reader.InclusionProof(evidence.Entry.Sequence, head.TreeSize).Select(ByteString.CopyFrom));
        }

        return result;
    }
}
