// SPDX-License-Identifier: Apache-2.0
using System.Net.Http.Headers;
using ExchangeBus.Core.IO;
using ExchangeBus.Core.TrustServices;
using Microsoft.AspNetCore.Http.Features;

namespace ExchangeBus.Registry.TrustServices;

/// <summary>
/// The HTTP face of the trust services: <c>POST /tsa</c> (RFC 3161 §3.4), <c>POST /ocsp</c> and
/// <c>GET /ocsp/{base64}</c> (RFC 6960 appendix A). Bodies are read with a hard limit whatever
/// Content-Length says; every protocol-level problem is answered in the protocol (a rejection
/// TimeStampResp, a malformedRequest OCSPResponse), only a wrong media type is an HTTP error (415).
/// </summary>
public static class TrustServicesEndpoints
{
    public const string TimeStampPath = "/tsa";
    public const string OcspPath = "/ocsp";

    /// <summary>Maps the endpoints; the returned group takes conventions (host filters, rate limits) for all three.</summary>
    public static RouteGroupBuilder MapTrustServices(
        this IEndpointRouteBuilder endpoints, TimeStampAuthority timeStampAuthority, OcspResponder ocspResponder)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(timeStampAuthority);
        ArgumentNullException.ThrowIfNull(ocspResponder);
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TrustServicesEndpoints).FullName!);

        var group = endpoints.MapGroup(string.Empty);
        group.MapPost(TimeStampPath, (RequestDelegate)(context => HandlePostAsync(
            context,
            logger,
            TrustServiceMediaTypes.TimeStampQuery,
            TrustServiceMediaTypes.TimeStampReply,
            timeStampAuthority.MaxRequestBytes,
            timeStampAuthority.Respond,
            timeStampAuthority.RefuseOversized)));
        group.MapPost(OcspPath, (RequestDelegate)(context => HandlePostAsync(
            context,
            logger,
            TrustServiceMediaTypes.OcspRequest,
            TrustServiceMediaTypes.OcspResponse,
            ocspResponder.MaxRequestBytes,
            ocspResponder.Respond,
            ocspResponder.RefuseOversized)));
        group.MapGet(OcspPath + "/{**request}", (RequestDelegate)(context => HandleOcspGetAsync(context, ocspResponder)));
        return group;
    }

    private delegate byte[] Responder(ReadOnlySpan<byte> request);

    private static async Task HandlePostAsync(
        HttpContext context,
        ILogger logger,
        string requestType,
        string replyType,
        int limit,
        Responder respond,
        Func<byte[]> refuseOversized)
    {
        if (!HasMediaType(context.Request, requestType))
        {
            TrustServicesLog.WrongContentType(logger, context.Request.Path, context.Request.ContentType);
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        var request = await ReadBoundedAsync(context, limit);
        byte[] reply;
        if (request is null)
        {
            TrustServicesLog.BodyTooLarge(logger, context.Request.Path, limit);

            // The rest of the body stays unread; closing the connection is cheaper than draining it.
            context.Response.Headers.Connection = "close";
            reply = refuseOversized();
        }
        else
        {
            reply = respond(request);
        }

        await WriteReplyAsync(context, replyType, reply);
    }

    /// <summary>RFC 6960 appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}.</summary>
    private static Task HandleOcspGetAsync(HttpContext context, OcspResponder responder)
    {
        var encoded = context.Request.RouteValues["request"] as string ?? string.Empty;

        // Base64 of the largest accepted request, percent-encoded at worst three characters each.
        var maxEncoded = (responder.MaxRequestBytes + 2) / 3 * 4 * 3;
        byte[] reply;
        if (encoded.Length > maxEncoded)
        {
            reply = responder.RefuseOversized();
        }
        else
        {
            // Routing decodes the path except %2F, which base64's '/' may arrive as.
            var base64 = Uri.UnescapeDataString(encoded);
            var der = new byte[base64.Length / 4 * 3 + 3];
            reply = Convert.TryFromBase64String(base64, der, out var written)
                ? responder.Respond(der.AsSpan(0, written))
                : responder.Respond([]);
        }

        return WriteReplyAsync(context, TrustServiceMediaTypes.OcspResponse, reply);
    }

    private static bool HasMediaType(HttpRequest request, string mediaType) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed)
        && string.Equals(parsed.MediaType, mediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The body, or null when it is over <paramref name="limit"/>: <see cref="BoundedBody"/> reads at
    /// most one byte past the limit and refuses a declared Content-Length over it unread.
    /// </summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpContext context, int limit)
    {
        // Kestrel then refuses to read (or drain) more than this, whatever the client sends.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        try
        {
            return await BoundedBody.ReadAsync(context.Request.Body, context.Request.ContentLength, limit, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    private static async Task WriteReplyAsync(HttpContext context, string mediaType, byte[] reply)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = mediaType;
        context.Response.ContentLength = reply.Length;
        await context.Response.Body.WriteAsync(reply, context.RequestAborted);
    }
}
