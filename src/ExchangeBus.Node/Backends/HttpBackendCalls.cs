// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.IO;
using Grpc.Core;

namespace ExchangeBus.Node.Backends;

/// <summary>
/// One HTTP round trip to a backend, shared by the <c>http</c> and <c>rest</c> kinds: the
/// deadline, a reply read up to a cap, and one mapping of what went wrong to the provider's
/// codes: no answer in time is <see cref="NodeErrors.ServiceTimeout"/>, no connection
/// <see cref="NodeErrors.ServiceUnavailable"/>, an answer too large or not HTTP
/// <see cref="NodeErrors.ServiceFailed"/>. The backend's own text stays on this side.
/// </summary>
internal static class HttpBackendCalls
{
    /// <summary>Sends <paramref name="request"/> and hands the response and its whole body (at most <paramref name="maxReplyBytes"/>) to <paramref name="answer"/>.</summary>
    public static async Task<T> SendAsync<T>(
        HttpClient http, HttpRequestMessage request, int maxReplyBytes, DateTimeOffset deadline, Func<HttpResponseMessage, byte[], T> answer, CancellationToken cancellationToken)
    {
        using var timeout = Timeout(deadline, cancellationToken);
        try
        {
            // Headers first, then a bounded read: a reply past the cap is abandoned, not buffered.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var body = await BoundedBody.ReadAsync(stream, response.Content.Headers.ContentLength, maxReplyBytes, timeout.Token).ConfigureAwait(false)
                    ?? throw TooLarge(maxReplyBytes);
                return answer(response, body);
            }
        }
        catch (Exception ex) when (Failure(ex, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    public static NodeException TooLarge(long maxReplyBytes) =>
        new(StatusCode.Unknown, NodeErrors.ServiceFailed, $"The service answered more than {maxReplyBytes} bytes.");

    /// <summary>
    /// A backend call's fault as the provider's code; null for the caller's own cancellation (and
    /// anything that is no backend fault), which passes on unchanged.
    /// </summary>
    public static NodeException? Failure(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        OperationCanceledException when !cancellationToken.IsCancellationRequested =>
            new NodeException(StatusCode.DeadlineExceeded, NodeErrors.ServiceTimeout, "The service did not answer in time."),
        HttpRequestException { StatusCode: null } request when request.HttpRequestError != HttpRequestError.ConfigurationLimitExceeded =>
            new NodeException(StatusCode.Unavailable, NodeErrors.ServiceUnavailable, "The service is unreachable."),

        // Headers past the handler's limits, or a connection torn in the middle of the reply.
        HttpRequestException or IOException =>
            new NodeException(StatusCode.Unknown, NodeErrors.ServiceFailed, "The service's answer was refused (malformed or cut off)."),
        _ => null,
    };

    private static CancellationTokenSource Timeout(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var remaining = deadline - DateTimeOffset.UtcNow;
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        return timeout;
    }
}
