// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeClient = ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeClient;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Google.Protobuf.WellKnownTypes;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Audit;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// The client's side of an exchange (design.md, "A call", steps 2 and 5): the caller must be a
/// subsystem registered on this node; the provider's nodes come from the global configuration
/// (the next is tried when one is unreachable); the request is signed with the member's key,
/// logged, sent; the response must be signed by the provider's member and carry this request's
/// hash; it is logged before the caller gets it.
/// </summary>
public sealed partial class ClientExchange(
    NodeId nodeId, NodeSettingsSource settingsSource, EnvelopeSigningQueue signing, GlobalConfigurationProvider configuration,
    EnvelopeVerification verification, PeerChannels peers, SqliteMessageLog messageLog,
    TreeHeadStamper stamper, NodeMetrics metrics, TimeProvider time, ILogger<ClientExchange> logger)
{
    /// <summary>Used when the caller sets no deadline of its own.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(60);

    private int _rotation;

    /// <summary>Identity of the local caller, as the local listener established it.</summary>
    public sealed record Caller(string? TlsCertificateSha256);

    /// <summary>
    /// A typed gRPC call's answer (docs/design/agency-protocols.md): the response message and the
    /// backend's own status and trailers, as the provider signed them.
    /// </summary>
    public sealed record GrpcAnswer(CallResponse Response, GrpcStatus Status);

    /// <summary>A generic call (<c>LocalGateway.Call</c>).</summary>
    public async Task<CallResponse> CallAsync(CallRequest request, Caller caller, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken) =>
        (await RunAsync(request, grpcMethod: "", caller, deadline, correlationId, cancellationToken).ConfigureAwait(false)).Response;

    /// <summary>
    /// A typed gRPC call (transparent gRPC): the same exchange as <see cref="CallAsync"/>, with
    /// the method path the caller called signed into the request for the provider to call on its backend.
    /// </summary>
    public async Task<GrpcAnswer> CallGrpcAsync(CallRequest request, string grpcMethod, Caller caller, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(grpcMethod);
        var (response, header) = await RunAsync(request, grpcMethod, caller, deadline, correlationId, cancellationToken).ConfigureAwait(false);
        return new GrpcAnswer(response, header.GrpcStatus);
    }

    private Task<(CallResponse Response, MessageHeader Header)> RunAsync(
        CallRequest request, string grpcMethod, Caller caller, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return MeasuredAsync(request.Service, correlationId, service =>
            ExchangeAsync(request, grpcMethod, service, caller, deadline ?? time.GetUtcNow() + DefaultDeadline, correlationId, cancellationToken));
    }

    /// <summary>Metrics and the caller's view of a refusal (its code in the status details), for every kind of call.</summary>
    private async Task<T> MeasuredAsync<T>(string serviceText, string correlationId, Func<ServiceId, Task<T>> exchange)
    {
        var started = Stopwatch.GetTimestamp();
        var serviceLabel = "invalid";
        try
        {
            var service = Parse<ServiceId>(serviceText, "service", ServiceId.TryParse);
            serviceLabel = service.ToString();
            var result = await exchange(service).ConfigureAwait(false);
            metrics.Record("client", serviceLabel, MessageLogRecord.StatusOk, Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (NodeException ex)
        {
            metrics.Record("client", serviceLabel, ex.Code, Stopwatch.GetElapsedTime(started));
            Log.Failed(logger, ex.Code, correlationId);
            throw ex.ToRpc(correlationId);
        }
    }

    /// <summary>What every call has passed before anything is signed: the caller, the configuration, the provider's nodes; and its request header.</summary>
    private sealed record Prepared(ClientSettings Registered, GlobalConfigurationView View, IReadOnlyList<NodeEntry> Providers, MessageHeader Header);

    /// <summary>
    /// The checks of every call, one copy for the generic, the typed and the streamed call: the
    /// payload's size, the caller registered and authenticated, the configuration and evidence
    /// current, client and provider in the configuration with a node.
    /// </summary>
    private Prepared Prepare(CallRequest request, string grpcMethod, ServiceId service, Caller caller)
    {
        EnsurePayloadSize(request.Payload.Length);
        var client = Parse<SubsystemId>(request.Client, "client", SubsystemId.TryParse);
        var registered = Authenticate(settingsSource.Current, client, caller);

        var view = configuration.Current(NodeErrors.OutdatedGlobalConf);
        stamper.EnsureEvidenceCurrent(NodeErrors.TimestampingFailed);
        if (!view.SubsystemExists(client))
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.UnknownClient, $"{client} is not in the global configuration (unknown or disabled).");
        }

        if (!view.SubsystemExists(service.Subsystem))
        {
            throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownProvider, $"{service.Subsystem} is not in the global configuration.");
        }

        var providers = view.NodesOf(service.Subsystem.Member);
        if (providers.Count == 0)
        {
            throw new NodeException(StatusCode.Unavailable, NodeErrors.NoProviderNode, $"{service.Subsystem.Member} has no node in the global configuration.");
        }

        // A version 7 id begins with its creation time, so ids made one after another sort
        // together: each node's message-id index then grows at its end, where a random id
        // would dirty a different page of it for every record written (docs/performance.md,
        // issue 19). The rest of the id is random, so it stays unguessable and unique.
        var now = time.GetUtcNow();
        var header = new MessageHeader
        {
            Kind = MessageKind.Request,
            MessageId = Guid.CreateVersion7(now).ToString("N"),
            Client = client.ToString(),
            Service = service.ToString(),
            UserId = request.UserId,
            SubjectId = request.SubjectId,
            Issue = request.Issue,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
            SenderNode = nodeId.ToString(),
            GrpcMethod = grpcMethod,
        };
        header.Metadata.Add(request.Metadata);
        return new Prepared(registered, view, providers, header);
    }

    private static void EnsurePayloadSize(int bytes)
    {
        if (bytes > NodeLimits.MaxPayloadBytes)
        {
            throw new NodeException(StatusCode.ResourceExhausted, NodeErrors.PayloadTooLarge,
                $"The payload is {bytes} bytes; at most {NodeLimits.MaxPayloadBytes} go in one call.");
        }
    }

    private async Task<(CallResponse Response, MessageHeader Header)> ExchangeAsync(CallRequest request, string grpcMethod, ServiceId service, Caller caller, DateTimeOffset deadline, string correlationId, CancellationToken cancellationToken)
    {
        var (registered, view, providers, header) = Prepare(request, grpcMethod, service, caller);

        // Hashed once: the digest is both what is signed and what the response must bind to.
        var (envelope, toBeSigned) = await signing.BuildAsync(header, request.Payload, cancellationToken).ConfigureAwait(false);
        var requestHash = SHA256.HashData(toBeSigned);

        // The request's record commits while the request travels: the caller is answered only
        // once it (and the response's) are committed, without the flush adding to the latency.
        var requestLogged = messageLog.AppendAsync(
            ExchangeRecords.From(MessageDirection.ClientRequest, header, envelope, registered.LogBodies, MessageLogRecord.StatusOk, correlationId), cancellationToken).AsTask();
        SignedEnvelope response;
        NodeEntry answered;
        try
        {
            (response, answered) = await SendAsync(envelope, providers, view, deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeException ex)
        {
            await requestLogged.ConfigureAwait(false);
            await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ClientResponse, header, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        catch (Exception)
        {
            await ((Task)requestLogged).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await requestLogged.ConfigureAwait(false);

        VerifiedEnvelope verified;
        try
        {
            verified = verification.Verify(response, view, _ => service.Subsystem.Member, EnvelopeVerification.ClientCodes);
            var answer = verified.Header;
            if (answer.Kind != MessageKind.Response
                || !string.Equals(answer.MessageId, header.MessageId, StringComparison.Ordinal)
                || !CryptographicOperations.FixedTimeEquals(answer.RequestHash.Span, requestHash)
                || !string.Equals(answer.SenderNode, answered.Id.ToString(), StringComparison.Ordinal)
                || (grpcMethod.Length > 0) != (answer.GrpcStatus is not null)
                || answer.Streamed)
            {
                throw new NodeException(StatusCode.DataLoss, NodeErrors.InvalidResponse, "The response does not answer this request (message id, request hash, sender or gRPC status differ).");
            }
        }
        catch (NodeException ex)
        {
            await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ClientResponse, header, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ClientResponse, verified.Header, response, registered.LogBodies, MessageLogRecord.StatusOk, correlationId), CancellationToken.None).ConfigureAwait(false);
        var reply = new CallResponse { Payload = response.Body, MessageId = header.MessageId, ProviderNode = answered.Id.ToString(), RequestHash = verified.Header.RequestHash };
        reply.Metadata.Add(verified.Header.Metadata);
        return (reply, verified.Header);
    }

    /// <summary>Tries the provider's nodes in turn while they are unreachable; a node's coded answer is final.</summary>
    private async Task<(SignedEnvelope Response, NodeEntry Node)> SendAsync(
        SignedEnvelope envelope, IReadOnlyList<NodeEntry> providers, GlobalConfigurationView view, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        foreach (var provider in InRotation(providers))
        {
            try
            {
                var channel = peers.For(provider, view);
                var response = await new ExchangeClient(channel).DeliverAsync(envelope, new CallOptions(deadline: deadline.UtcDateTime, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
                return (response, provider);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.ErrorCode is null)
            {
                // Not reached (refused connection, failed handshake): the next node may be up.
                Log.ProviderUnreachable(logger, provider.Id.ToString(), ex.Status.Detail);
            }
            catch (RpcException ex)
            {
                throw Refusal(ex);
            }
        }

        throw new NodeException(StatusCode.Unavailable, NodeErrors.ProviderUnreachable, "None of the provider's nodes could be reached.");
    }

    /// <summary>The provider's nodes, starting at the next in turn, so calls spread over them.</summary>
    private IEnumerable<NodeEntry> InRotation(IReadOnlyList<NodeEntry> providers)
    {
        var start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)providers.Count);
        for (var i = 0; i < providers.Count; i++)
        {
            yield return providers[(start + i) % providers.Count];
        }
    }

    /// <summary>A provider node's failed call as this node's code: its own code passed on unchanged, or what went wrong on the way.</summary>
    private static NodeException Refusal(RpcException ex)
    {
        if (ex.ErrorCode is { } code)
        {
            // The provider refused or its service failed: pass its code on unchanged.
            return new NodeException(ex.StatusCode, code, ex.Status.Detail);
        }

        return ex.StatusCode == StatusCode.DeadlineExceeded
            ? new NodeException(StatusCode.DeadlineExceeded, NodeErrors.ClientProxyTimeout, "The provider did not answer before the deadline.")
            : new NodeException(StatusCode.Unavailable, NodeErrors.ProviderUnreachable, $"The provider's node failed the call ({ex.StatusCode}).");
    }

    /// <summary>
    /// The settings of the subsystem a local caller acts as: it must be registered on this node,
    /// and a system registered with a certificate must present it; one registered without may
    /// only use the loopback development port, where nobody presents one.
    /// </summary>
    internal static ClientSettings Authenticate(NodeSettings settings, SubsystemId client, Caller caller)
    {
        var text = client.ToString();
        var registered = settings.Clients.FirstOrDefault(c => string.Equals(c.Subsystem, text, StringComparison.Ordinal))
            ?? throw new NodeException(StatusCode.PermissionDenied, NodeErrors.UnregisteredClient, $"{client} is not a client registered on this node.");
        if (!string.Equals(caller.TlsCertificateSha256, registered.TlsCertificateSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.ClientNotAuthenticated,
                $"{client} must call with the TLS certificate registered for it (and only then).");
        }

        return registered;
    }

    private delegate bool TryParser<T>(string? text, out T? value, out IdentifierError? error);

    private static T Parse<T>(string text, string what, TryParser<T> parse)
        where T : class =>
        parse(text, out var value, out var error)
            ? value!
            : throw new NodeException(StatusCode.InvalidArgument, NodeErrors.InvalidIdentifier, $"Invalid {what} identifier: {error!.Message}");

    private static partial class Log
    {
        [LoggerMessage(4300, LogLevel.Information, "Exchange failed: {Code} (correlation id {CorrelationId})")]
        public static partial void Failed(ILogger logger, string code, string correlationId);

        [LoggerMessage(4301, LogLevel.Warning, "Provider node {Node} unreachable ({Detail}); trying the next one")]
        public static partial void ProviderUnreachable(ILogger logger, string node, string detail);
    }
}
