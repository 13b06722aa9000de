// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using Grpc.Core;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// An r1 (REST) call over Exchange.Stream (docs/design/rest-protocol.md, "Bodies"): the same
/// pipeline as a streamed typed call, without a gRPC method; the REST head rides in the first
/// request message's signed metadata, the body's chunks are the request messages.
/// </summary>
public sealed partial class ClientExchange
{
    /// <summary>
    /// A streamed r1 call's deadline: its body may be large (up to a gigabyte), so longer than a
    /// call's; the provider still gives its backend only its own timeout to start answering.
    /// </summary>
    public static readonly TimeSpan RestStreamDeadline = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Runs an r1 call whose first request message carries <paramref name="request"/> (REST head
    /// and first chunk) and whose further chunks come from <paramref name="requests"/>; the
    /// response messages (the body's chunks) go to <paramref name="responses"/>.
    /// <paramref name="opened"/> gets the provider's verified RESPONSE_HEADERS link (the message
    /// id, the hash of request message 0 that every response message is verified to bind, and
    /// the backend's status and headers in its metadata) before any chunk is written.
    /// </summary>
    public Task<StreamAnswer> StreamRestAsync(
        CallRequest request, Caller caller, IAsyncStreamReader<byte[]> requests, IAsyncStreamWriter<byte[]> responses,
        Func<MessageHeader, Task> opened, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(opened);
        return MeasuredAsync(request.Service, correlationId, service => StreamAsync(
            request, Prepare(request, grpcMethod: "", service, caller), service, requests, responses, opened,
            time.GetUtcNow() + RestStreamDeadline, correlationId, cancellationToken));
    }
}
