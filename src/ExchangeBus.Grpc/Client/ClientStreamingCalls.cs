// SPDX-License-Identifier: Apache-2.0
using Grpc.Core;

namespace ExchangeBus.Grpc;

/// <summary>
/// Writes to a client stream that report the server's answer when the server has already given
/// one. A server may answer before it has read the whole stream (a refusal after the first
/// message: the file id is taken, the disk is full). Grpc.Net.Client then fails the pending write
/// with a bare CANCELLED; the call's outcome is the server's status, with its stable code and
/// correlation id, so that is what the caller gets.
/// </summary>
public static class ClientStreamingCalls
{
    public static async Task WriteOrAnswerAsync<TRequest, TResponse>(
        this AsyncClientStreamingCall<TRequest, TResponse> call, TRequest message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var write = call.RequestStream.WriteAsync(message, cancellationToken);
        if (!write.IsCompleted && await Task.WhenAny(write, call.ResponseAsync).ConfigureAwait(false) != write)
        {
            // The server answered while the write waited for HTTP/2 flow-control credit that a
            // server done with the call never gives: without this the write could wait for ever
            // (seen: a push the recipient had refused for a full disk). Its answer is the outcome.
            await call.ResponseAsync.ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.Cancelled, "The server answered before it had read the whole stream."));
        }

        try
        {
            await write.ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && !cancellationToken.IsCancellationRequested)
        {
            // Throws the server's status if it answered; if it answered OK, the write's failure stands.
            await call.ResponseAsync.ConfigureAwait(false);
            throw;
        }
    }

    public static async Task CompleteOrAnswerAsync<TRequest, TResponse>(this AsyncClientStreamingCall<TRequest, TResponse> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled)
        {
            await call.ResponseAsync.ConfigureAwait(false);
            throw;
        }
    }
}
