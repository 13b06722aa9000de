// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Diagnostics;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Trust;
using ExchangeBus.Node.Audit;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// The provider's side of an exchange (design.md, "A call", step 4). Every check runs before
/// the backend is called: the TLS peer is a node the configuration lists; the signer is the
/// client's member with a valid certificate and a fresh good OCSP status; the client is in the
/// configuration (not disabled); the message id is new;
/// the service is one this node provides; the access list allows the client. Then the request
/// is logged, the backend called with a deadline, the response signed (its header binding the
/// request's hash), logged, and returned. Refusals of authentic requests are logged too.
/// </summary>
public sealed partial class ProviderExchange(
    NodeId nodeId, NodeSettingsSource settingsSource, EnvelopeSigningQueue signing, GlobalConfigurationProvider configuration,
    EnvelopeVerification verification, BackendInvoker backends, SqliteMessageLog messageLog,
    TreeHeadStamper stamper, NodeMetrics metrics, TimeProvider time, ILogger<ProviderExchange> logger) : Contracts.Exchange.V1.Exchange.ExchangeBase
{
    /// <summary>How old a request may be; older ones are refused, which bounds what replay checks must remember.</summary>
    public static readonly TimeSpan MaxMessageAge = TimeSpan.FromMinutes(10);

    /// <summary>How far ahead of our clock a sender's may be.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public const string ListMethodsService = "listMethods";
    public const string AllowedMethodsService = "allowedMethods";

    /// <summary>The API description of one service (X-Road's getOpenAPI, for gRPC descriptor sets too).</summary>
    public const string GetServiceDescriptionService = "getServiceDescription";

    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    public override async Task<SignedEnvelope> Deliver(SignedEnvelope request, ServerCallContext context) =>
        await MeasuredAsync(context, () => AdmitAsync(request, context, streamed: false, call => RespondAsync(call, context))).ConfigureAwait(false);

    /// <summary>
    /// A streamed typed call (docs/design/agency-protocols.md): the first request message is
    /// admitted by the same checks as <see cref="Deliver"/>; the rest are in ProviderExchange.Stream.cs.
    /// </summary>
    public override async Task Stream(IAsyncStreamReader<SignedEnvelope> requestStream, IServerStreamWriter<SignedEnvelope> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        await MeasuredAsync(context, async () =>
        {
            if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage, "The stream carried no request.");
            }

            return await AdmitAsync(requestStream.Current, context, streamed: true,
                call => IsRestStream(call.Header)
                    ? RestStreamAsync(call, requestStream, responseStream, context)
                    : StreamAsync(call, requestStream, responseStream, context)).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>An admitted request: every check passed (or it is a metaservice call), nothing logged yet.</summary>
    private sealed record Admitted(
        SignedEnvelope Envelope, VerifiedEnvelope Request, GlobalConfigurationView View, ClientId Client, ServiceId Service,
        NodeSettings NodeSettings, ServiceSettings? Settings, bool Metaservice, ServiceDescription? Description, string CorrelationId)
    {
        public MessageHeader Header => Request.Header;

        public bool LogBody => Settings?.LogBodies ?? true;
    }

    private async Task<T> MeasuredAsync<T>(ServerCallContext context, Func<Task<(T Result, string Service)>> handle)
    {
        var correlationId = context.CorrelationId;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var (result, service) = await handle().ConfigureAwait(false);
            metrics.Record("provider", service, MessageLogRecord.StatusOk, Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (NodeException ex)
        {
            metrics.Record("provider", ex.Data["service"] as string ?? "unknown", ex.Code, Stopwatch.GetElapsedTime(started));
            Log.Refused(logger, ex.Code, correlationId);
            throw ex.ToRpc(correlationId);
        }
    }

    /// <summary>
    /// Every check of an incoming request, one copy for both inter-node methods; then
    /// <paramref name="handle"/> runs with the message id held against replays. Refusals of an
    /// authentic request are logged.
    /// </summary>
    private async Task<(T Result, string Service)> AdmitAsync<T>(SignedEnvelope envelope, ServerCallContext context, bool streamed, Func<Admitted, Task<T>> handle)
    {
        var correlationId = context.CorrelationId;
        var view = configuration.Current(NodeErrors.ProviderOutdatedGlobalConf);
        stamper.EnsureEvidenceCurrent(NodeErrors.ProviderTimestampingFailed);
        var peer = PeerTrustSource.RequireNode(context, view);

        var verified = verification.Verify(envelope, view, header => ClientId.TryParse(header.Client, out var c, out _) ? c!.Member : null, Trust.EnvelopeVerification.ProviderCodes);
        var header = verified.Header;
        var (client, service) = CheckHeader(header, peer.Id, view);
        if (header.Streamed != streamed || (streamed && (header.StreamPosition != 0 || !header.PreviousHash.IsEmpty || (header.GrpcMethod.Length == 0 && !IsRestStream(header)))))
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage,
                streamed ? "A stream starts with link 0 of a typed or an r1 call." : "A streamed message came by Deliver.");
        }

        // From here the request is authentic: what happens to it goes into the message log.
        // One version of node.json for the whole call, even if it is reloaded meanwhile.
        var nodeSettings = settingsSource.Current;
        var settings = nodeSettings.Services.FirstOrDefault(s => string.Equals(s.Service, header.Service, StringComparison.Ordinal));
        if (!_inFlight.TryAdd(header.MessageId, 0))
        {
            // Not logged (as before): the call holding the id logs its own outcome.
            throw Tagged(new NodeException(StatusCode.AlreadyExists, NodeErrors.Replay, "A message with this id is being handled already."), header.Service);
        }

        try
        {
            ServiceDescription? description;
            try
            {
                description = Authorize(header, client, service, nodeSettings, settings, view, envelope.Body);
            }
            catch (NodeException ex)
            {
                await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ProviderRequest, header, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            var metaservice = IsMetaservice(service);
            var result = await handle(new Admitted(envelope, verified, view, client, service, nodeSettings, settings, metaservice, description, correlationId)).ConfigureAwait(false);
            return (result, header.Service);
        }
        catch (NodeException ex)
        {
            throw Tagged(ex, header.Service);
        }
        finally
        {
            _inFlight.TryRemove(header.MessageId, out _);
        }
    }

    private static bool IsMetaservice(ServiceId service) => service.ServiceCode is ListMethodsService or AllowedMethodsService or GetServiceDescriptionService && service.Version is null;

    /// <summary>
    /// The checks of an authentic request whose refusal is logged: new id, a service this node
    /// provides (and method), the access list, the size; for getServiceDescription, the
    /// description asked for (refused like a call to that service when the client may not have it).
    /// </summary>
    private ServiceDescription? Authorize(MessageHeader header, ClientId client, ServiceId service, NodeSettings nodeSettings, ServiceSettings? settings, GlobalConfigurationView view, ByteString body)
    {
        if (messageLog.FindByMessageId(header.MessageId).Any(e => e.Record.Direction == MessageDirection.ProviderRequest))
        {
            throw new NodeException(StatusCode.AlreadyExists, NodeErrors.Replay, "A message with this id was received before.");
        }

        var metaservice = IsMetaservice(service);
        if (!metaservice && settings is null)
        {
            throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, $"This node does not provide {service}.");
        }

        if (header.GrpcMethod.Length > 0 && (metaservice || !ServesGrpcMethod(settings!.Backend, header.GrpcMethod)))
        {
            throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, $"{service} does not serve the gRPC method {header.GrpcMethod}.");
        }

        if (!metaservice && !AccessControl.IsAllowed(nodeSettings.AccessRules, service, client, view))
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.AccessDenied, $"{client} may not call {service}.");
        }

        if (settings is not null)
        {
            EnsureSize(settings, body.Length, "request");
        }

        return metaservice && service.ServiceCode == GetServiceDescriptionService
            ? ServiceDescriptionOf(nodeSettings, service, client, view, body)
            : null;
    }

    /// <summary>A unary call (Deliver): the backend's one answer, signed.</summary>
    private async Task<SignedEnvelope> RespondAsync(Admitted call, ServerCallContext context)
    {
        var (header, envelope, settings, correlationId) = (call.Header, call.Envelope, call.Settings, call.CorrelationId);

        // The request's record commits while the backend works: the answer waits for both, so
        // an answered call is logged, and the group commit's flush is not added to its latency.
        var requestLogged = messageLog.AppendAsync(
            ExchangeRecords.From(MessageDirection.ProviderRequest, header, envelope, call.LogBody, MessageLogRecord.StatusOk, correlationId), context.CancellationToken).AsTask();
        BackendReply reply;
        try
        {
            reply = call.Metaservice
                ? Metaservice(call.NodeSettings, call.Service, call.Client, call.View, call.Description)
                : await backends.InvokeAsync(settings!, BackendCallOf(header, envelope), Deadline(context, settings!), context.CancellationToken).ConfigureAwait(false);
            if (settings is not null)
            {
                EnsureSize(settings, reply.Payload.Length, "response");
            }
        }
        catch (NodeException ex)
        {
            await requestLogged.ConfigureAwait(false);
            await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ProviderResponse, header, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        catch (Exception)
        {
            await ((Task)requestLogged).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await requestLogged.ConfigureAwait(false);

        var responseHeader = ResponseHeader(header, call.Request.ToBeSigned, MessageKind.Response);
        foreach (var (key, value) in reply.Metadata)
        {
            responseHeader.Metadata[key] = value;
        }

        if (reply.GrpcStatus is { } grpcStatus)
        {
            responseHeader.GrpcStatus = grpcStatus;
        }

        var (response, _) = await signing.BuildAsync(responseHeader, ByteString.CopyFrom(reply.Payload), CancellationToken.None).ConfigureAwait(false);
        await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ProviderResponse, responseHeader, response, call.LogBody, MessageLogRecord.StatusOk, correlationId), CancellationToken.None).ConfigureAwait(false);
        return response;
    }

    private static BackendCall BackendCallOf(MessageHeader header, SignedEnvelope envelope) => new(
        header.MessageId, header.Client, header.Service, header.UserId, header.SubjectId, header.Issue, envelope.Body.Memory, header.Metadata,
        header.GrpcMethod.Length == 0 ? null : header.GrpcMethod);

    /// <summary>The service's message size limit (node.json MaxMessageBytes), per message of a stream.</summary>
    private static void EnsureSize(ServiceSettings settings, int bytes, string what)
    {
        if (bytes > settings.MaxMessageBytes)
        {
            throw new NodeException(StatusCode.ResourceExhausted, NodeErrors.MessageTooLarge,
                $"A {what} message of {bytes} bytes is over the {settings.MaxMessageBytes} bytes {settings.Service} accepts.");
        }
    }

    /// <summary>The header must be a request, from the member of the node that sent it, for this node's member, and recent.</summary>
    private (ClientId Client, ServiceId Service) CheckHeader(MessageHeader header, NodeId peer, GlobalConfigurationView view)
    {
        if (header.Kind != MessageKind.Request || header.MessageId.Length is 0 or > 128 || header.CreatedAt is null)
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage, "The header is not a complete request header.");
        }

        if (!ClientId.TryParse(header.Client, out var client, out _) || !ServiceId.TryParse(header.Service, out var service, out _))
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage, "The header's client or service identifier does not parse.");
        }

        if (!string.Equals(header.SenderNode, peer.ToString(), StringComparison.Ordinal) || client!.Member != peer.Owner)
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.SenderMismatch,
                $"The request names client {header.Client} but came from node {peer}, which belongs to another member.");
        }

        AccessControl.EnsureListed(client, view);

        if (service!.Subsystem.Member != nodeId.Owner || !view.SubsystemExists(service.Subsystem))
        {
            throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, $"This node does not provide {service}.");
        }

        var age = time.GetUtcNow() - header.CreatedAt.ToDateTimeOffset();
        if (age > MaxMessageAge || age < -MaxClockSkew)
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.StaleMessage, "The request's time is outside the accepted window.");
        }

        return (client, service);
    }

    /// <summary>
    /// A typed (transparent gRPC) call may reach only the methods of the gRPC service node.json
    /// names for this bus service: access rights are per bus service, so no other path of the
    /// backend's server is reachable through it.
    /// </summary>
    private static bool ServesGrpcMethod(BackendSettings backend, string path) =>
        backend is { Kind: BackendKind.Grpc, GrpcService: { } grpcService }
        && path.Length > grpcService.Length + 2
        && path[0] == '/'
        && path.AsSpan(1).StartsWith(grpcService, StringComparison.Ordinal)
        && path[grpcService.Length + 1] == '/'
        && !path.AsSpan(grpcService.Length + 2).Contains('/');

    private static BackendReply Metaservice(NodeSettings settings, ServiceId service, ClientId client, GlobalConfigurationView view, ServiceDescription? description)
    {
        if (description is not null)
        {
            return new BackendReply(description.ToByteArray(), new Dictionary<string, string>());
        }

        var provided = service.ServiceCode == ListMethodsService
            ? settings.Services.Select(s => ServiceId.Parse(s.Service)).Where(s => s.Subsystem == service.Subsystem).Select(s => s.ToString())
            : AccessControl.AllowedServices(settings, service.Subsystem, client, view);
        return new BackendReply(new ListMethodsResponse { Services = { provided.Order(StringComparer.Ordinal) } }.ToByteArray(), new Dictionary<string, string>());
    }

    /// <summary>
    /// A description goes only to a client that may call the service (it says what the service
    /// takes and returns): access is checked before whether one is registered, so a client that
    /// may not call it learns no more than a call would tell it.
    /// </summary>
    private static ServiceDescription ServiceDescriptionOf(NodeSettings settings, ServiceId metaservice, ClientId client, GlobalConfigurationView view, ByteString body)
    {
        GetServiceDescriptionRequest request;
        try
        {
            request = GetServiceDescriptionRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage, "The body is not a GetServiceDescriptionRequest.");
        }

        if (!ServiceId.TryParse(request.Service, out var described, out _)
            || described!.Subsystem != metaservice.Subsystem
            || !settings.Services.Any(s => string.Equals(s.Service, described.ToString(), StringComparison.Ordinal)))
        {
            throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, $"{metaservice.Subsystem} provides no service {request.Service} here.");
        }

        if (!AccessControl.IsAllowed(settings.AccessRules, described, client, view))
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.AccessDenied, $"{client} may not call {described}, so it gets no description of it.");
        }

        return settings.Descriptions.TryGetValue(described.ToString(), out var description)
            ? description
            : throw new NodeException(StatusCode.NotFound, NodeErrors.NoServiceDescription, $"No description is registered for {described}.");
    }

    private DateTimeOffset Deadline(ServerCallContext context, ServiceSettings settings)
    {
        var own = time.GetUtcNow().AddMilliseconds(settings.Backend.TimeoutMilliseconds);
        return context.ClientDeadline is { } caller && caller < own ? caller : own;
    }

    /// <summary>A response-side header for <paramref name="request"/>: kind, the request's identity, and its hash.</summary>
    private MessageHeader ResponseHeader(MessageHeader request, byte[] requestToBeSigned, MessageKind kind) =>
        AnswerHeader.For(request, requestToBeSigned, kind, nodeId.ToString(), time.GetUtcNow(), withUserId: true);

    private static NodeException Tagged(NodeException ex, string service)
    {
        ex.Data["service"] = service;
        return ex;
    }

    private static partial class Log
    {
        [LoggerMessage(4200, LogLevel.Information, "Refused an incoming exchange: {Code} (correlation id {CorrelationId})")]
        public static partial void Refused(ILogger logger, string code, string correlationId);
    }
}
