// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.Internal;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// An r1 call whose body is longer than one chunk, or of unknown length, by Exchange.Stream
/// (docs/design/rest-protocol.md, "Bodies"): the body is read one chunk at a time, each chunk
/// signed, logged and sent before the next is read, its running total capped; the answer's head
/// is written as soon as it comes and each chunk of its body as it arrives. Neither body is ever
/// whole in memory; the gRPC stream's flow control holds back whichever side is faster.
/// </summary>
public sealed partial class RestGateway
{
    private async Task StreamAsync(HttpContext httpContext, RestRequest rest, long? declared, int maxBodyBytes, string correlationId)
    {
        var cancellationToken = httpContext.RequestAborted;

        // The running total below is the cap; Kestrel's own (30 MB by default) would cut it short with another answer.
        if (httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        var requests = new RequestChunks(httpContext.Request.Body, maxBodyBytes);
        byte[] first;
        try
        {
            first = await requests.NextAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NodeException ex) when (ex.Code == NodeErrors.PayloadTooLarge)
        {
            await RefuseAsync(httpContext, BodyTooLarge(maxBodyBytes), correlationId).ConfigureAwait(false);
            return;
        }

        var call = rest.ToCallRequest(UnsafeByteOperations.UnsafeWrap(first));
        if (declared is { } length)
        {
            call.Metadata[RestMetadata.ContentLength] = length.ToString(CultureInfo.InvariantCulture);
        }

        var responses = new ResponseChunks(httpContext, rest);
        await ExchangeAsync(httpContext, () => exchange.StreamRestAsync(
            call, LocalGateway.Caller(httpContext), requests, responses, responses.Opened, correlationId, cancellationToken), correlationId).ConfigureAwait(false);
    }

    /// <summary>The request body after its first chunk, as the request messages of the stream; past the cap <see cref="NodeErrors.PayloadTooLarge"/>.</summary>
    private sealed class RequestChunks(Stream body, int maxBodyBytes) : IAsyncStreamReader<byte[]>
    {
        private long _total;

        public byte[] Current { get; private set; } = [];

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            Current = await NextAsync(cancellationToken).ConfigureAwait(false);
            return Current.Length > 0;
        }

        public async Task<byte[]> NextAsync(CancellationToken cancellationToken)
        {
            byte[] chunk;
            try
            {
                chunk = await BodyChunks.ReadAsync(body, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // A malformed chunked body, or the caller gone: a refusal ends the call on both nodes.
                throw new NodeException(StatusCode.InvalidArgument, NodeErrors.BadRequest, "The request body could not be read to its end.");
            }

            _total += chunk.Length;
            return _total <= maxBodyBytes
                ? chunk
                : throw new NodeException(StatusCode.ResourceExhausted, NodeErrors.PayloadTooLarge, $"The body is longer than {maxBodyBytes} bytes, the most this node takes.");
        }
    }

    /// <summary>
    /// The answer to the caller: its head (the backend's status and headers, with the X-Road
    /// headers of this exchange) from the provider's signed RESPONSE_HEADERS link, then the
    /// body's chunks as they arrive.
    /// </summary>
    private sealed class ResponseChunks(HttpContext httpContext, RestRequest rest) : IAsyncStreamWriter<byte[]>
    {
        private bool _bodyless;

        public WriteOptions? WriteOptions { get; set; }

        /// <summary>Writes the HTTP head from the provider's headers link, which binds the hash of request message 0 (X-Road-Request-Hash).</summary>
        public async Task Opened(MessageHeader link)
        {
            var response = httpContext.Response;
            RestResponseHeaders.ApplyBackend(response, link.Metadata);
            RestResponseHeaders.ApplyXRoad(response.Headers, link.Metadata.GetValueOrDefault(RestMetadata.XRoadId) ?? rest.XRoadId,
                rest.Client, rest.Service, link.MessageId, link.RequestHash.ToByteArray());
            _bodyless = HttpMethods.IsHead(rest.Method) || response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified;
            if (!_bodyless && link.Metadata.TryGetValue(RestMetadata.ContentLength, out var text)
                && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                // Kestrel then ends a body that falls short with a broken connection, not a shorter answer.
                response.ContentLength = length;
            }

            await response.StartAsync(httpContext.RequestAborted).ConfigureAwait(false);
        }

        public Task WriteAsync(byte[] message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(byte[] message, CancellationToken cancellationToken) =>
            _bodyless ? Task.CompletedTask : httpContext.Response.Body.WriteAsync(message, cancellationToken).AsTask();
    }
}
