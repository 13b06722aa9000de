// SPDX-License-Identifier: Apache-2.0
using System.Collections.Frozen;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.Internal;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// X-Road's message protocol for REST (r1) on the local listeners (docs/design/rest-protocol.md):
/// an agency system calls <c>{METHOD} /r1/{service}[/{path}][?{query}]</c> with
/// <c>X-Road-Client</c>, as it would call an X-Road security server. The request becomes a
/// generic call with the REST parts in its signed metadata and goes through
/// <see cref="ClientExchange"/>'s one pipeline (authentication, signing, logging, node rotation,
/// response verification); the answer comes back with the backend's status and headers and the
/// X-Road headers, a refusal as X-Road's error JSON.
/// </summary>
public sealed partial class RestGateway(ClientExchange exchange, ILogger<RestGateway> logger)
{
    /// <summary>The route, on the local listeners only; every method.</summary>
    public const string Route = PathPrefix + "/{**rest}";

    /// <summary>The path segment every r1 request starts with.</summary>
    public const string PathPrefix = "/r1";

    /// <summary>X-Road's REST metaservice (PR-REST 5, "getOpenAPI"), beside listMethods and allowedMethods.</summary>
    public const string GetOpenApiService = "getOpenAPI";

    // PR-REST's metaservices: /r1/{provider subsystem}/{code}. They will be answered from the
    // providers' service descriptions (issue 17, "Service descriptions"); until then a coded
    // refusal, never a call to a backend that happens to have a service of that name.
    private static readonly FrozenSet<string> Metaservices =
        FrozenSet.Create(StringComparer.Ordinal, ProviderExchange.ListMethodsService, ProviderExchange.AllowedMethodsService, GetOpenApiService);

    public async Task HandleAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var correlationId = httpContext.TraceIdentifier;
        var cancellationToken = httpContext.RequestAborted;
        var request = httpContext.Request;

        // The target as sent, still percent-encoded (4.2, 4.5): the path and query cross unmodified.
        var target = httpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value + request.QueryString.Value;
        if (!RestRequestParser.TryParse(request.Method, target, request.Headers, out var rest, out var refusal))
        {
            await RefuseAsync(httpContext, refusal, correlationId).ConfigureAwait(false);
            return;
        }

        if (Metaservices.Contains(rest.Service.ServiceCode) && rest.Service.Version is null)
        {
            await RefuseAsync(httpContext, new RestRefusal(NodeErrors.NotImplemented, RestReasons.MetaserviceNotImplemented,
                $"The REST metaservice {rest.Service.ServiceCode} is not served yet; LocalGateway.ListMethods and AllowedMethods answer the first two over gRPC."), correlationId).ConfigureAwait(false);
            return;
        }

        var body = await BoundedBody.ReadAsync(request.Body, request.ContentLength, NodeLimits.MaxPayloadBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            await RefuseAsync(httpContext, new RestRefusal(NodeErrors.PayloadTooLarge, RestReasons.BodyTooLarge,
                $"The body is longer than {NodeLimits.MaxPayloadBytes} bytes, the most one call carries."), correlationId).ConfigureAwait(false);
            return;
        }

        Contracts.Node.V1.CallResponse answer;
        try
        {
            answer = await exchange.CallAsync(rest.ToCallRequest(UnsafeByteOperations.UnsafeWrap(body)), LocalGateway.Caller(httpContext), deadline: null, correlationId, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.ErrorCode is { } code)
        {
            // ClientExchange logged and counted it; the caller reads it in X-Road's form.
            await RestErrorWriter.WriteAsync(httpContext.Response, code, ex.Status.Detail, correlationId, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // As the gRPC side answers an unhandled fault: a code and the correlation id, the text stays in the log.
            Log.Failed(logger, ex, correlationId);
            await RestErrorWriter.WriteAsync(httpContext.Response, RichStatus.InternalErrorCode, "The node failed to handle the call.", correlationId, cancellationToken).ConfigureAwait(false);
            return;
        }

        var response = httpContext.Response;
        RestResponseHeaders.ApplyBackend(response, answer.Metadata);
        RestResponseHeaders.ApplyXRoad(response.Headers, answer.Metadata.GetValueOrDefault(RestMetadata.XRoadId) ?? rest.XRoadId,
            rest.Client, rest.Service, answer.MessageId, answer.RequestHash.Span);
        if (answer.Payload.IsEmpty || HttpMethods.IsHead(request.Method) || response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)
        {
            return;
        }

        response.ContentLength = answer.Payload.Length;
        await response.Body.WriteAsync(answer.Payload.Memory, cancellationToken).ConfigureAwait(false);
    }

    private Task RefuseAsync(HttpContext httpContext, RestRefusal refusal, string correlationId)
    {
        Log.Refused(logger, refusal.Reason, refusal.Type, correlationId);
        return RestErrorWriter.WriteAsync(httpContext.Response, refusal, correlationId, httpContext.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(4420, LogLevel.Information, "REST call refused before the exchange: {Reason} ({Code}, correlation id {CorrelationId})")]
        public static partial void Refused(ILogger logger, string reason, string code, string correlationId);

        [LoggerMessage(4421, LogLevel.Error, "REST call failed on this node (correlation id {CorrelationId})")]
        public static partial void Failed(ILogger logger, Exception exception, string correlationId);
    }
}
