// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// Exchange.Stream on the provider's side (docs/design/agency-protocols.md, "The four call
/// kinds"): after the first request message was admitted, the backend is called with a duplex
/// call of the same method path; the client's further request messages are verified, checked
/// against the request chain, logged and written to the backend, one at a time; the backend's
/// response headers (link 0, RESPONSE_HEADERS) and messages are signed as links of the response
/// chain, logged and sent, one at a time; its status ends the call as a signed RESPONSE_END.
/// Nothing is buffered beyond one message per direction.
/// </summary>
public sealed partial class ProviderExchange
{
    private async Task<bool> StreamAsync(Admitted call, IAsyncStreamReader<SignedEnvelope> requests, IServerStreamWriter<SignedEnvelope> responses, ServerCallContext context)
    {
        var (header, settings, correlationId) = (call.Header, call.Settings!, call.CorrelationId);
        await messageLog.AppendAsync(
            ExchangeRecords.From(MessageDirection.ProviderRequest, header, call.Envelope, call.LogBody, MessageLogRecord.StatusOk, correlationId), context.CancellationToken).ConfigureAwait(false);
        var requestChain = new StreamChain();
        requestChain.Advance(call.Request.ToBeSigned);

        // Cancelling the backend call ends both directions; stopping the request side alone is
        // for a backend that ended the call before the client half-closed.
        using var backendCancel = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var stopRequests = CancellationTokenSource.CreateLinkedTokenSource(backendCancel.Token);
        using var backend = backends.OpenGrpcStream(settings, BackendCallOf(header, call.Envelope), Deadline(context, settings), backendCancel.Token);
        var sending = ForwardRequestsAsync(call, requestChain, backend, requests, backendCancel, stopRequests.Token);
        try
        {
            var responseChain = new StreamChain();
            RpcException? ended = null;
            try
            {
                // Link 0: the backend's response headers, as soon as it sends them (the request
                // side runs meanwhile, so a backend that answers only after more requests gets them).
                var headers = ResponseHeader(header, call.Request.ToBeSigned, MessageKind.ResponseHeaders);
                headers.Metadata.Add(await BackendInvoker.SignedHeadersAsync(backend.ResponseHeadersAsync).ConfigureAwait(false));
                await SendResponseLinkAsync(call, responseChain, headers, ByteString.Empty, responses, context.CancellationToken).ConfigureAwait(false);
                while (await backend.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
                {
                    var message = backend.ResponseStream.Current;
                    EnsureSize(settings, message.Length, "response");
                    var link = ResponseHeader(header, call.Request.ToBeSigned, MessageKind.Response);
                    // Awaited before the next read: the client node's window holds the backend back.
                    await SendResponseLinkAsync(call, responseChain, link, UnsafeByteOperations.UnsafeWrap(message), responses, context.CancellationToken).ConfigureAwait(false);
                }
            }
            catch (RpcException ex)
            {
                ended = ex;
            }

            // The request side ends before the end record is written, so its records come first in the log.
            await stopRequests.CancelAsync().ConfigureAwait(false);
            await sending.ConfigureAwait(false);
            var status = BackendInvoker.StreamStatus(backend, ended, context.CancellationToken);
            if (responseChain.Position == 0)
            {
                // The backend's call failed before its headers came (with a status of its own):
                // the chain still starts with a headers link, an empty one.
                await SendResponseLinkAsync(call, responseChain, ResponseHeader(header, call.Request.ToBeSigned, MessageKind.ResponseHeaders), ByteString.Empty, responses, context.CancellationToken).ConfigureAwait(false);
            }

            await SendResponseLinkAsync(call, responseChain, End(header, call.Request.ToBeSigned, status), ByteString.Empty, responses, context.CancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            await backendCancel.CancelAsync().ConfigureAwait(false);
            var outcome = await StreamChain.OutcomeAsync(sending, ex).ConfigureAwait(false);
            if (outcome is not null)
            {
                await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ProviderResponse, header, outcome.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
                throw outcome;
            }

            throw;
        }
    }

    /// <summary>A call's RESPONSE_END: the backend's gRPC status (an empty one, OK, for an r1 call, whose HTTP status is in the headers link).</summary>
    private MessageHeader End(MessageHeader request, byte[] requestToBeSigned, GrpcStatus status)
    {
        var link = ResponseHeader(request, requestToBeSigned, MessageKind.ResponseEnd);
        link.GrpcStatus = status;
        return link;
    }

    /// <summary>The next link of the response chain: stamped, signed, logged, then sent (awaited).</summary>
    private async Task SendResponseLinkAsync(
        Admitted call, StreamChain chain, MessageHeader link, ByteString body, IServerStreamWriter<SignedEnvelope> responses, CancellationToken cancellationToken)
    {
        chain.Stamp(link);
        var (envelope, toBeSigned) = await signing.BuildAsync(link, body, CancellationToken.None).ConfigureAwait(false);
        chain.Advance(toBeSigned);
        await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ProviderResponse, link, envelope, call.LogBody, MessageLogRecord.StatusOk, call.CorrelationId), CancellationToken.None).ConfigureAwait(false);
        await responses.WriteAsync(envelope, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The client's request messages after the first, to the backend: each verified, a link of
    /// the request chain, logged, and written (awaited) before the next is read; the REQUEST_END
    /// half-closes the backend's request stream. A refusal cancels the backend call.
    /// </summary>
    private async Task ForwardRequestsAsync(
        Admitted call, StreamChain chain, AsyncDuplexStreamingCall<byte[], byte[]> backend, IAsyncStreamReader<SignedEnvelope> requests,
        CancellationTokenSource backendCancel, CancellationToken stop)
    {
        try
        {
            await backend.RequestStream.WriteAsync(call.Envelope.Body.ToByteArray(), stop).ConfigureAwait(false);
            while (await requests.MoveNext(stop).ConfigureAwait(false))
            {
                var envelope = requests.Current;
                var link = await NextRequestLinkAsync(call, chain, envelope).ConfigureAwait(false);
                if (link.Kind == MessageKind.RequestEnd)
                {
                    await backend.RequestStream.CompleteAsync().ConfigureAwait(false);
                    return;
                }

                await backend.RequestStream.WriteAsync(envelope.Body.ToByteArray(), stop).ConfigureAwait(false);
            }

            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.MalformedMessage, "The request stream ended without its signed end record.");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The backend ended the call first (or it is being cancelled): nothing more to forward.
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException && !backendCancel.IsCancellationRequested)
        {
            // The backend's call is over (it answered, or failed): its reader reports how.
        }
        catch (NodeException)
        {
            await backendCancel.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A later link names the same call as the first: id, parties, method, sender.</summary>
    private static bool SameCall(MessageHeader link, MessageHeader first) =>
        string.Equals(link.MessageId, first.MessageId, StringComparison.Ordinal)
        && string.Equals(link.Client, first.Client, StringComparison.Ordinal)
        && string.Equals(link.Service, first.Service, StringComparison.Ordinal)
        && string.Equals(link.SenderNode, first.SenderNode, StringComparison.Ordinal)
        && string.Equals(link.GrpcMethod, first.GrpcMethod, StringComparison.Ordinal);
}
