// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Google.Protobuf;
using Grpc.Core;
using ExchangeClient = ExchangeBus.Contracts.Exchange.V1.Exchange.ExchangeClient;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// A typed call over Exchange.Stream (docs/design/agency-protocols.md, "The four call kinds"):
/// every kind (unary too) as two chains of signed messages, each logged. The caller's messages
/// are signed and sent one at a time (each write awaited before the next is read), closed by a
/// REQUEST_END at its half-close; the provider's are verified one at a time, each as the next
/// link of the response chain, logged and written to the caller (link 0, RESPONSE_HEADERS, as the
/// caller's response headers); the call ends only with the provider's signed RESPONSE_END, whose
/// status the caller gets.
/// </summary>
public sealed partial class ClientExchange
{
    /// <summary>How a streamed typed call ended: the backend's own status and trailers, as the provider signed them.</summary>
    public sealed record StreamAnswer(string MessageId, string ProviderNode, GrpcStatus Status);

    /// <summary>
    /// Runs a typed call whose first request message is <paramref name="request"/>'s payload and
    /// whose further ones come from <paramref name="requests"/>; response messages go to
    /// <paramref name="responses"/>. <paramref name="opened"/> gets the provider's verified
    /// RESPONSE_HEADERS link (the message id, and the backend's response headers in its
    /// <c>metadata</c>) before any response message is written.
    /// </summary>
    public Task<StreamAnswer> StreamGrpcAsync(
        CallRequest request, string grpcMethod, Caller caller, IAsyncStreamReader<byte[]> requests, IAsyncStreamWriter<byte[]> responses,
        Func<MessageHeader, Task> opened, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(grpcMethod);
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(opened);
        return MeasuredAsync(request.Service, correlationId, service => StreamAsync(
            request, Prepare(request, grpcMethod, service, caller), service, requests, responses, opened,
            deadline ?? time.GetUtcNow() + DefaultDeadline, correlationId, cancellationToken));
    }

    private async Task<StreamAnswer> StreamAsync(
        CallRequest request, Prepared call, ServiceId service, IAsyncStreamReader<byte[]> requests, IAsyncStreamWriter<byte[]> responses,
        Func<MessageHeader, Task> opened, DateTimeOffset deadline, string correlationId, CancellationToken cancellationToken)
    {
        var header = call.Header;
        var requestChain = new StreamChain();
        requestChain.Stamp(header);
        var (envelope, toBeSigned) = await signing.BuildAsync(header, request.Payload, cancellationToken).ConfigureAwait(false);
        var requestHash = SHA256.HashData(toBeSigned);
        requestChain.Advance(toBeSigned);
        await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ClientRequest, header, envelope, call.Registered.LogBodies, MessageLogRecord.StatusOk, correlationId), cancellationToken).ConfigureAwait(false);

        AsyncDuplexStreamingCall<SignedEnvelope, SignedEnvelope> peer;
        NodeEntry answered;
        try
        {
            (peer, answered) = await OpenAsync(envelope, call.Providers, call.View, deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeException ex)
        {
            await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ClientResponse, header, ex.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        using (peer)
        using (var stopRequests = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var sending = SendRequestsAsync(header, requestChain, call.Registered.LogBodies, requests, peer, correlationId, stopRequests.Token);
            try
            {
                var responseChain = new StreamChain();
                while (await NextAsync(peer.ResponseStream).ConfigureAwait(false))
                {
                    var response = peer.ResponseStream.Current;
                    var verified = verification.Verify(response, call.View, _ => service.Subsystem.Member, EnvelopeVerification.ClientCodes);
                    var link = verified.Header;
                    if (link.Kind is not (MessageKind.ResponseHeaders or MessageKind.Response or MessageKind.ResponseEnd)
                        || (link.Kind == MessageKind.ResponseHeaders) != (responseChain.Position == 0)
                        || !string.Equals(link.MessageId, header.MessageId, StringComparison.Ordinal)
                        || !CryptographicOperations.FixedTimeEquals(link.RequestHash.Span, requestHash)
                        || !string.Equals(link.SenderNode, answered.Id.ToString(), StringComparison.Ordinal)
                        || !responseChain.Follows(link)
                        || (link.Kind == MessageKind.ResponseEnd) != (link.GrpcStatus is not null)
                        || (link.Kind != MessageKind.Response && !response.Body.IsEmpty))
                    {
                        throw new NodeException(StatusCode.DataLoss, NodeErrors.InvalidResponse,
                            $"Response message {link.StreamPosition} is not the next link of this call's response chain (kind, message id, request hash, sender, position or previous hash differ).");
                    }

                    responseChain.Advance(verified.ToBeSigned);
                    if (link.Kind == MessageKind.ResponseEnd)
                    {
                        // The request side stops before the end is logged, so the log's order is
                        // the same whichever side finished first.
                        await stopRequests.CancelAsync().ConfigureAwait(false);
                        await sending.ConfigureAwait(false);
                        await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ClientResponse, link, response, call.Registered.LogBodies, MessageLogRecord.StatusOk, correlationId), CancellationToken.None).ConfigureAwait(false);
                        return new StreamAnswer(header.MessageId, answered.Id.ToString(), link.GrpcStatus!);
                    }

                    EnsurePayloadSize(response.Body.Length);
                    await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ClientResponse, link, response, call.Registered.LogBodies, MessageLogRecord.StatusOk, correlationId), CancellationToken.None).ConfigureAwait(false);
                    if (link.Kind == MessageKind.ResponseHeaders)
                    {
                        // The backend's headers reach the caller when the backend sent them, not when the stream opened.
                        await opened(link).ConfigureAwait(false);
                        continue;
                    }

                    // Awaited before the next read: a slow caller holds the provider (and its backend) back.
                    await responses.WriteAsync(response.Body.ToByteArray(), cancellationToken).ConfigureAwait(false);
                }

                throw new NodeException(StatusCode.DataLoss, NodeErrors.InvalidResponse, "The provider's stream ended without its signed end record: the answer is truncated.");
            }
            catch (Exception ex)
            {
                await stopRequests.CancelAsync().ConfigureAwait(false);
                var outcome = await StreamChain.OutcomeAsync(sending, ex).ConfigureAwait(false);
                if (outcome is not null)
                {
                    await messageLog.AppendAsync(ExchangeRecords.Outcome(MessageDirection.ClientResponse, header, outcome.Code, correlationId), CancellationToken.None).ConfigureAwait(false);
                    throw outcome;
                }

                throw;
            }
        }
    }

    /// <summary>The provider's next message; its node's refusal or failure as this node's code.</summary>
    private static async Task<bool> NextAsync(IAsyncStreamReader<SignedEnvelope> responses)
    {
        try
        {
            return await responses.MoveNext(CancellationToken.None).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled || ex.ErrorCode is not null)
        {
            throw Refusal(ex);
        }
    }

    /// <summary>
    /// The caller's messages after the first: each signed as the next link, logged, and sent
    /// (awaited) before the next is read; its half-close becomes the signed REQUEST_END.
    /// </summary>
    private async Task SendRequestsAsync(
        MessageHeader first, StreamChain chain, bool logBodies, IAsyncStreamReader<byte[]> requests,
        AsyncDuplexStreamingCall<SignedEnvelope, SignedEnvelope> peer, string correlationId, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                var more = await requests.MoveNext(stop).ConfigureAwait(false);
                var link = first.Clone();
                link.Kind = more ? MessageKind.Request : MessageKind.RequestEnd;
                link.CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow());
                chain.Stamp(link);
                var payload = more ? requests.Current : [];
                EnsurePayloadSize(payload.Length);
                var (envelope, toBeSigned) = await signing.BuildAsync(link, UnsafeByteOperations.UnsafeWrap(payload), CancellationToken.None).ConfigureAwait(false);
                chain.Advance(toBeSigned);
                await messageLog.AppendAsync(ExchangeRecords.From(MessageDirection.ClientRequest, link, envelope, logBodies, MessageLogRecord.StatusOk, correlationId), CancellationToken.None).ConfigureAwait(false);
                await peer.RequestStream.WriteAsync(envelope, stop).ConfigureAwait(false);
                if (!more)
                {
                    await peer.RequestStream.CompleteAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The provider ended the call first, or it failed: the response side reports how.
        }
        catch (NodeException)
        {
            // The caller's message is refused: end the call, so the response side stops waiting.
            peer.Dispose();
            throw;
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The call is over on the provider's side: its response stream says why.
        }
    }

    /// <summary>
    /// Opens Exchange.Stream on the provider's nodes in turn, sending the first message; the next
    /// node is tried only while one cannot be reached, as for a unary call.
    /// </summary>
    private async Task<(AsyncDuplexStreamingCall<SignedEnvelope, SignedEnvelope> Call, NodeEntry Node)> OpenAsync(
        SignedEnvelope first, IReadOnlyList<NodeEntry> providers, GlobalConfigurationView view, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        foreach (var provider in InRotation(providers))
        {
            var call = new ExchangeClient(peers.For(provider, view)).Stream(new CallOptions(deadline: deadline.UtcDateTime, cancellationToken: cancellationToken));
            try
            {
                await call.RequestStream.WriteAsync(first, cancellationToken).ConfigureAwait(false);
                return (call, provider);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.ErrorCode is null)
            {
                call.Dispose();
                Log.ProviderUnreachable(logger, provider.Id.ToString(), ex.Status.Detail);
            }
            catch (RpcException ex)
            {
                call.Dispose();
                throw Refusal(ex);
            }
        }

        throw new NodeException(StatusCode.Unavailable, NodeErrors.ProviderUnreachable, "None of the provider's nodes could be reached.");
    }
}
