// SPDX-License-Identifier: Apache-2.0
using System.Collections.Frozen;
using ExchangeBus.Core.IO;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Gateway;
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
public sealed partial class RestGateway(ClientExchange exchange, NodeSettingsSource settings, ILogger<RestGateway> logger)
{
    /// <summary>The route, on the local listeners only; every method.</summary>
    public const string Route = PathPrefix + "/{**rest}";

    /// <summary>The path segment every r1 request starts with.</summary>
    public const string PathPrefix = "/r1";

    /// <summary>X-Road's REST metaservice (PR-REST 5, "getOpenAPI"), beside listMethods and allowedMethods.</summary>
    public const string GetOpenApiService = "getOpenAPI";

    /// <summary>getOpenAPI's query parameter naming the REST service described (PR-MREST 5).</summary>
    public const string ServiceCodeParameter = "serviceCode";

    // PR-MREST's metaservices: /r1/{provider subsystem}/{code}, answered by the provider's node
    // itself (its listMethods, allowedMethods and getServiceDescription), never by a backend that
    // happens to have a service of that name.
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
            await MetaserviceAsync(httpContext, rest, correlationId).ConfigureAwait(false);
            return;
        }

        // The choice of Deliver or Stream depends on the request alone: a declared body of at
        // most one chunk goes whole (two signatures); a longer or undeclared one streams.
        var current = settings.Current;
        var maxBodyBytes = current.RestBodyLimit;
        long? declared = httpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false ? 0 : request.ContentLength;
        if (declared > maxBodyBytes)
        {
            await RefuseAsync(httpContext, BodyTooLarge(maxBodyBytes), correlationId).ConfigureAwait(false);
            return;
        }

        if (current.RestStreamAllCalls || declared is not { } length || length > NodeLimits.RestChunkBytes)
        {
            await StreamAsync(httpContext, rest, declared, maxBodyBytes, correlationId).ConfigureAwait(false);
            return;
        }

        var body = await BoundedBody.ReadAsync(request.Body, declared, maxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            await RefuseAsync(httpContext, BodyTooLarge(maxBodyBytes), correlationId).ConfigureAwait(false);
            return;
        }

        var call = rest.ToCallRequest(UnsafeByteOperations.UnsafeWrap(body));
        if (await ExchangeAsync(httpContext, () => exchange.CallAsync(call, LocalGateway.Caller(httpContext), deadline: null, correlationId, cancellationToken), correlationId).ConfigureAwait(false) is not { } answer)
        {
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

    /// <summary>
    /// listMethods and allowedMethods as X-Road's JSON list (<see cref="RestServiceList"/>);
    /// getOpenAPI as the OpenAPI document the provider registered for the REST service, with its
    /// media type. Each is one call to the provider's node through the one pipeline (signed,
    /// logged on both nodes), so the answer carries the X-Road headers of that exchange.
    /// </summary>
    private async Task MetaserviceAsync(HttpContext httpContext, RestRequest rest, string correlationId)
    {
        var call = rest.ToCallRequest(ByteString.Empty);
        call.Metadata.Clear();
        var getOpenApi = rest.Service.ServiceCode == GetOpenApiService;
        string? described = null;
        if (getOpenApi)
        {
            var codes = httpContext.Request.Query[ServiceCodeParameter];
            if (codes is not [{ Length: > 0 } code])
            {
                await RefuseAsync(httpContext, new RestRefusal(NodeErrors.BadRequest, RestReasons.MissingServiceCode,
                    $"getOpenAPI needs exactly one query parameter {ServiceCodeParameter}, the code of the REST service described."), correlationId).ConfigureAwait(false);
                return;
            }

            described = $"{rest.Service.Subsystem}/{code}";
            call.Service = $"{rest.Service.Subsystem}/{ProviderExchange.GetServiceDescriptionService}";
            call.Payload = new Contracts.Node.V1.GetServiceDescriptionRequest { Service = described }.ToByteString();
        }

        if (await ExchangeAsync(httpContext, () => exchange.CallAsync(call, LocalGateway.Caller(httpContext), deadline: null, correlationId, httpContext.RequestAborted), correlationId).ConfigureAwait(false) is not { } answer)
        {
            return;
        }

        byte[] body;
        string contentType;
        try
        {
            if (getOpenApi)
            {
                var description = Contracts.Node.V1.ServiceDescription.Parser.ParseFrom(answer.Payload);
                if (!string.Equals(description.Service, described, StringComparison.Ordinal))
                {
                    await RefuseAsync(httpContext, new RestRefusal(NodeErrors.InvalidResponse, RestReasons.InvalidMetaserviceAnswer,
                        "The provider described another service."), correlationId).ConfigureAwait(false);
                    return;
                }

                if (description.Kind != Contracts.Node.V1.ServiceDescriptionKind.Openapi)
                {
                    // A gRPC service's description is a descriptor set; LocalGateway.GetServiceDescription serves it.
                    await RefuseAsync(httpContext, new RestRefusal(NodeErrors.NoServiceDescription, RestReasons.NotOpenApi,
                        $"The service {described} is not described by an OpenAPI document."), correlationId).ConfigureAwait(false);
                    return;
                }

                body = description.Content.ToByteArray();
                contentType = description.MediaType + ";charset=utf-8";
            }
            else
            {
                body = RestServiceList.Body(Contracts.Node.V1.ListMethodsResponse.Parser.ParseFrom(answer.Payload).Services);
                contentType = RestErrorWriter.ContentType;
            }
        }
        catch (InvalidProtocolBufferException)
        {
            await RefuseAsync(httpContext, new RestRefusal(NodeErrors.InvalidResponse, RestReasons.InvalidMetaserviceAnswer,
                "The provider's metaservice answer does not parse."), correlationId).ConfigureAwait(false);
            return;
        }

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        RestResponseHeaders.ApplyXRoad(response.Headers, rest.XRoadId, rest.Client, rest.Service, answer.MessageId, answer.RequestHash.Span);
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(httpContext.Request.Method))
        {
            await response.Body.WriteAsync(body, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One call through <see cref="ClientExchange"/>; null when it failed, the refusal already
    /// written in X-Road's form, or, once the answer's head has gone out, the connection aborted:
    /// a failure after the head must not look like a complete (shorter) body.
    /// </summary>
    private async Task<T?> ExchangeAsync<T>(HttpContext httpContext, Func<Task<T>> call, string correlationId)
        where T : class
    {
        var cancellationToken = httpContext.RequestAborted;
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && httpContext.Response.HasStarted)
        {
            Log.Broken(logger, (ex as RpcException)?.ErrorCode ?? RichStatus.InternalErrorCode, correlationId);
            httpContext.Abort();
        }
        catch (RpcException ex) when (ex.ErrorCode is { } code)
        {
            // ClientExchange logged and counted it; the caller reads it in X-Road's form.
            await RestErrorWriter.WriteAsync(httpContext.Response, code, ex.Status.Detail, correlationId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // As the gRPC side answers an unhandled fault: a code and the correlation id, the text stays in the log.
            Log.Failed(logger, ex, correlationId);
            await RestErrorWriter.WriteAsync(httpContext.Response, RichStatus.InternalErrorCode, "The node failed to handle the call.", correlationId, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private static RestRefusal BodyTooLarge(int maxBodyBytes) =>
        new(NodeErrors.PayloadTooLarge, RestReasons.BodyTooLarge, $"The body is longer than {maxBodyBytes} bytes, the most this node takes (node.json maxRestBodyBytes).");

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

        [LoggerMessage(4422, LogLevel.Warning, "REST call failed after its answer had begun: {Code}; the connection is aborted (correlation id {CorrelationId})")]
        public static partial void Broken(ILogger logger, string code, string correlationId);
    }
}
