// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Internal;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Rest;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// An r1 (REST) call over Exchange.Stream (docs/design/rest-protocol.md, "Bodies"): the same
/// chains as a typed gRPC stream, with an HTTP backend at the end. The request's chunks go into
/// the backend's request body as they arrive, each verified, checked as the next link and logged
/// first; the backend's head is response message 0, its body's chunks the next ones, read one
/// chunk at a time and sent (awaited) before the next is read; RESPONSE_END (status OK) says the
/// body is complete. A body over the service's <c>maxBodyBytes</c> is refused on its running total.
/// </summary>
public sealed partial class ProviderExchange
{
    /// <summary>Whether a stream's first message is an r1 call rather than a typed gRPC one.</summary>
    private static bool IsRestStream(MessageHeader header) =>
        header.GrpcMethod.Length == 0 && header.Metadata.ContainsKey(RestMetadata.Method);

    private async Task<bool> RestStreamAsync(Admitted call, IAsyncStreamReader<SignedEnvelope> requests, IServerStreamWriter<SignedEnvelope> responses, ServerCallContext context)
    {
        var (header, settings, correlationId) = (call.Header, call.Settings, call.CorrelationId);
        await messageLog.AppendAsync(
            ExchangeRecords.From(MessageDirection.ProviderRequest, header, call.Envelope, call.LogBody, MessageLogRecord.StatusOk, correlationId), context.CancellationToken).ConfigureAwait(false);
        var requestChain = new StreamChain();
        requestChain.Advance(call.Request.ToBeSigned);
        // The backend's timeout is an idle timeout here: a body may take longer than it to cross,
        // but the backend must take the next chunk, answer or send its next one within it.
        var idle = TimeSpan.FromMilliseconds(settings?.Backend.TimeoutMilliseconds ?? 0);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cancel.CancelAfter(idle);
        using var stopRequests = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
        var body = new RestRequestBody(this, call, requestChain, requests, () => cancel.CancelAfter(idle), stopRequests.Token);
        try
        {
            if (call.Metaservice || settings is not { Backend.Kind: BackendKind.Rest })
            {
                throw new NodeException(StatusCode.NotFound, NodeErrors.UnknownService, $"{header.Service} is not a REST service.");
            }

            var content = body.Content(settings.BodyLimit);
            var (request, response) = await backends.OpenRestAsync(settings, BackendCallOf(header, call.Envelope), content, cancel.Token).ConfigureAwait(false);
            using (request)
            using (response)
            {
                if (content is null)
                {
                    body.ReadWithoutBody();
                }

                var chain = new StreamChain();
                // The backend's status and headers are the signed metadata of the headers link, as
                // in the Deliver form's response, so the client's node writes the HTTP head at once.
                var head = ResponseHeader(header, call.Request.ToBeSigned, MessageKind.ResponseHeaders);
                head.Metadata.Add(RestBackend.Head(response, BackendCallOf(header, call.Envelope)));
                if (response.Content.Headers.ContentLength is { } declared)
                {
                    if (declared > settings.BodyLimit)
                    {
                        throw HttpBackendCalls.TooLarge(settings.BodyLimit);
                    }

                    head.Metadata[RestMetadata.ContentLength] = declared.ToString(CultureInfo.InvariantCulture);
                }

                await SendResponseLinkAsync(call, chain, head, ByteString.Empty, responses, context.CancellationToken).ConfigureAwait(false);
                var stream = await response.Content.ReadAsStreamAsync(cancel.Token).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    long total = 0;
                    while (await BodyChunks.ReadAsync(stream, cancel.Token).ConfigureAwait(false) is { Length: > 0 } chunk)
                    {
                        total += chunk.Length;
                        if (total > settings.BodyLimit)
                        {
                            throw HttpBackendCalls.TooLarge(settings.BodyLimit);
                        }

                        await SendResponseLinkAsync(call, chain, ResponseHeader(header, call.Request.ToBeSigned, MessageKind.Response), UnsafeByteOperations.UnsafeWrap(chunk), responses, context.CancellationToken).ConfigureAwait(false);
                        cancel.CancelAfter(idle);
                    }
                }

                // The request side ends before the end record, so its records come first in the
                // log; a backend that answered without reading all of it stops it here.
                await stopRequests.CancelAsync().ConfigureAwait(false);
                await body.Finished.ConfigureAwait(false);
                await SendResponseLinkAsync(call, chain, End(header, call.Request.ToBeSigned, new GrpcStatus()), ByteString.Empty, responses, context.CancellationToken).ConfigureAwait(false);
                return true;
            }
        }
        catch (Exception ex)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await ((Task)body.Finished).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            // The request side's refusal (a bad link, a body over the cap) is the call's outcome
            // rather than the backend call it broke off.
            var outcome = body.Refusal ?? ex as NodeException ?? HttpBackendCalls.Failure(ex, context.CancellationToken);
            if (outcome is not null)
            {
                await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ProviderResponse, header, outcome.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
                throw outcome;
            }

            throw;
        }
    }

    /// <summary>
    /// A later request link of a streamed call, verified and checked: the next link of the
    /// request chain, of the same call, an end record without a body, within the service's
    /// message size. The chain is advanced and the link logged.
    /// </summary>
    private async Task<MessageHeader> NextRequestLinkAsync(Admitted call, StreamChain chain, SignedEnvelope envelope)
    {
        var verified = verification.Verify(envelope, call.View, _ => call.Client.Member, Trust.EnvelopeVerification.ProviderCodes);
        var link = verified.Header;
        if (link.Kind is not (MessageKind.Request or MessageKind.RequestEnd) || !SameCall(link, call.Header) || !chain.Follows(link)
            || (link.Kind == MessageKind.RequestEnd && !envelope.Body.IsEmpty))
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage,
                $"Request message {link.StreamPosition} is not the next link of this call's request chain.");
        }

        EnsureSize(call.Settings!, envelope.Body.Length, "request");
        chain.Advance(verified.ToBeSigned);
        await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ProviderRequest, link, envelope, call.LogBody, MessageLogRecord.StatusOk, call.CorrelationId), CancellationToken.None).ConfigureAwait(false);
        return link;
    }

    /// <summary>
    /// The request side of an r1 stream: the chunks as the backend's request body, pulled as the
    /// backend's connection takes them, or (for a request without a body) just the end record.
    /// </summary>
    private sealed class RestRequestBody(
        ProviderExchange exchange, Admitted call, StreamChain chain, IAsyncStreamReader<SignedEnvelope> requests, Action progressed, CancellationToken stop)
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        /// <summary>Completes when the request side is over (its end record logged, or stopped).</summary>
        public Task Finished => _started == 0 ? Task.CompletedTask : _finished.Task;

        /// <summary>Why the request side refused the call, if it did.</summary>
        public NodeException? Refusal { get; private set; }

        /// <summary>
        /// The backend's request body: none when the caller declared none; else with the
        /// declared length (a different total is refused) or chunked.
        /// </summary>
        public HttpContent? Content(int maxBodyBytes)
        {
            long? declared = call.Header.Metadata.TryGetValue(RestMetadata.ContentLength, out var text)
                && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : null;
            if (declared > maxBodyBytes)
            {
                throw PayloadTooLarge(maxBodyBytes);
            }

            if (declared == 0)
            {
                return null;
            }

            var content = new ChainedContent(this, maxBodyBytes, declared);
            content.Headers.ContentLength = declared;
            return content;
        }

        /// <summary>For a request that declared no body: the chain must end at once.</summary>
        public void ReadWithoutBody() => _ = Start(chunk => chunk.IsEmpty
            ? Task.CompletedTask
            : throw new NodeException(StatusCode.InvalidArgument, NodeErrors.BadRequest, "The request declared no body but carried one."));

        private async Task ForwardAsync(Func<ReadOnlyMemory<byte>, Task> write)
        {
            try
            {
                await write(call.Envelope.Body.Memory).ConfigureAwait(false);
                while (await requests.MoveNext(stop).ConfigureAwait(false))
                {
                    var envelope = requests.Current;
                    var link = await exchange.NextRequestLinkAsync(call, chain, envelope).ConfigureAwait(false);
                    if (link.Kind == MessageKind.RequestEnd)
                    {
                        _finished.TrySetResult();
                        return;
                    }

                    await write(envelope.Body.Memory).ConfigureAwait(false);
                    progressed();
                }

                throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage, "The request stream ended without its signed end record.");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped: the backend answered without the rest, or the call failed elsewhere.
                _finished.TrySetResult();
                throw;
            }
            catch (NodeException ex)
            {
                Refusal = ex;
                _finished.TrySetException(ex);
                throw;
            }
            catch (Exception ex)
            {
                _finished.TrySetException(ex);
                throw;
            }
        }

        private Task Start(Func<ReadOnlyMemory<byte>, Task> write)
        {
            if (Interlocked.Exchange(ref _started, 1) != 0)
            {
                // HttpClient serializes a body once; a retry would have to re-read a chain already consumed.
                throw new InvalidOperationException("The request body is sent once.");
            }

            return ForwardAsync(write);
        }

        private static NodeException PayloadTooLarge(int maxBodyBytes) =>
            new(StatusCode.ResourceExhausted, NodeErrors.PayloadTooLarge, $"The body is over the {maxBodyBytes} bytes this service takes.");

        /// <summary>The chain's chunks written to the backend's connection as they come, the running total capped.</summary>
        private sealed class ChainedContent(RestRequestBody body, int maxBodyBytes, long? declared) : HttpContent
        {
            protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
                SerializeToStreamAsync(stream, context, CancellationToken.None);

            protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
            {
                long total = 0;
                return body.Start(async chunk =>
                {
                    total += chunk.Length;
                    if (total > maxBodyBytes)
                    {
                        throw PayloadTooLarge(maxBodyBytes);
                    }

                    if (total > declared)
                    {
                        throw new NodeException(StatusCode.InvalidArgument, NodeErrors.BadRequest, "The body is longer than its declared length.");
                    }

                    await stream.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                });
            }

            protected override bool TryComputeLength(out long length)
            {
                length = declared ?? 0;
                return declared is not null;
            }
        }
    }
}
