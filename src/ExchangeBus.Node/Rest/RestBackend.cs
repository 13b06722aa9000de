// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Node.Backends;
using Grpc.Core;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// The provider node's call to a REST backend (docs/design/rest-protocol.md, "Provider node"):
/// <c>{rest.method} {base}{rest.path}[?{rest.query}]</c> with the forwardable headers, the body
/// and the X-Road headers an X-Road provider gets. Any status is the backend's answer (PR-REST 4.6
/// category 1) and redirects are not followed (4.4); only not answering, or answering more than
/// the service's <c>MaxBodyBytes</c>, is a failure, with the provider's codes
/// (<see cref="HttpBackendCalls"/>, shared with the <c>http</c> kind). <see cref="BackendInvoker"/>
/// hands it the services node.json gives the <c>rest</c> backend kind.
/// </summary>
public sealed class RestBackend : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Calls the backend at <paramref name="baseAddress"/>; a reply body over <paramref name="maxBodyBytes"/> is <see cref="NodeErrors.ServiceFailed"/>.</summary>
    public async Task<BackendReply> InvokeAsync(string baseAddress, BackendCall call, DateTimeOffset deadline, int maxBodyBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(call);
        using var request = Request(baseAddress, call, call.Payload.IsEmpty ? null : new ReadOnlyMemoryContent(call.Payload));
        return await HttpBackendCalls.SendAsync(_http, request, maxBodyBytes, deadline, (response, body) => new BackendReply(body, Head(response, call)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>With the node's one-call limit as the cap.</summary>
    public Task<BackendReply> InvokeAsync(string baseAddress, BackendCall call, DateTimeOffset deadline, CancellationToken cancellationToken) =>
        InvokeAsync(baseAddress, call, deadline, NodeLimits.MaxPayloadBytes, cancellationToken);

    /// <summary>
    /// A streamed call (docs/design/rest-protocol.md, "Bodies"): the request body is
    /// <paramref name="body"/>, sent as it is produced; returns once the backend's head has come
    /// (the caller's <paramref name="cancellationToken"/> carries its timeout), its body unread.
    /// The caller disposes the request and the response, and maps faults with <see cref="HttpBackendCalls.Failure"/>.
    /// </summary>
    public async Task<(HttpRequestMessage Request, HttpResponseMessage Response)> OpenAsync(
        string baseAddress, BackendCall call, HttpContent? body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(call);
        var request = Request(baseAddress, call, body);
        try
        {
            return (request, await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>The backend's status, its forwardable headers and the caller's X-Road-Id, as the provider signs them.</summary>
    public static Dictionary<string, string> Head(HttpResponseMessage response, BackendCall call)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(call);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RestMetadata.Status] = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        // The caller's X-Road-Id, echoed under the provider's signature (4.3).
        if (call.Metadata.TryGetValue(RestMetadata.XRoadId, out var xroadId))
        {
            metadata[RestMetadata.XRoadId] = xroadId;
        }

        // NonValidated: the values as the backend wrote them (4.3: Content-Type passes unmodified), not re-formatted by a parser.
        foreach (var (name, values) in response.Headers.NonValidated.Concat(response.Content.Headers.NonValidated))
        {
            if (RestHeaders.IsForwardable(name))
            {
                metadata[RestMetadata.HeaderPrefix + name.ToLowerInvariant()] = string.Join(RestMetadata.ValueSeparator, values);
            }
        }

        return metadata;
    }

    /// <summary>
    /// Built from the signed metadata, which the provider checks again rather than trust the
    /// client's node: a path that could leave the base URL, or a query with a fragment or
    /// whitespace, is refused before any connection is made.
    /// </summary>
    private static HttpRequestMessage Request(string baseAddress, BackendCall call, HttpContent? body)
    {
        var method = call.Metadata.GetValueOrDefault(RestMetadata.Method);
        var path = call.Metadata.GetValueOrDefault(RestMetadata.Path, "");
        var query = call.Metadata.GetValueOrDefault(RestMetadata.Query, "");
        if (method is null || !RestRequestParser.IsMethod(method) || !RestPath.IsSafe(path) || query.Any(c => c is <= ' ' or >= '\u007f' or '#'))
        {
            throw new NodeException(StatusCode.InvalidArgument, NodeErrors.BadRequest, "This is a REST service: call it through /r1 with a method, a safe path and a query.");
        }

        var url = (path.Length == 0 ? baseAddress : baseAddress.TrimEnd('/') + path) + (query.Length == 0 ? "" : "?" + query);
        var request = new HttpRequestMessage(new HttpMethod(method), new Uri(url, UriKind.Absolute)) { Content = body };

        foreach (var (key, value) in call.Metadata)
        {
            if (!key.StartsWith(RestMetadata.HeaderPrefix, StringComparison.Ordinal) || key[RestMetadata.HeaderPrefix.Length..] is not { } name || !RestHeaders.IsForwardable(name))
            {
                continue;
            }

            var values = value.Split(RestMetadata.ValueSeparator);
            if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                // Content-Type and its kin belong to the content, even an empty one.
                request.Content ??= new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty);
                request.Content.Headers.TryAddWithoutValidation(name, values);
            }
        }

        request.Headers.TryAddWithoutValidation(RestHeaders.Id, call.Metadata.GetValueOrDefault(RestMetadata.XRoadId, call.MessageId));
        request.Headers.TryAddWithoutValidation(RestHeaders.Client, call.Client);
        request.Headers.TryAddWithoutValidation(RestHeaders.Service, call.Service);
        AddOptional(request, RestHeaders.UserId, call.UserId);
        AddOptional(request, RestHeaders.Issue, call.Issue);
        AddOptional(request, RestHeaders.RepresentedParty, call.Metadata.GetValueOrDefault(RestMetadata.RepresentedParty, ""));
        return request;
    }

    private static void AddOptional(HttpRequestMessage request, string name, string value)
    {
        if (value.Length > 0)
        {
            request.Headers.TryAddWithoutValidation(name, WebUtility.UrlEncode(value));
        }
    }

    public void Dispose() => _http.Dispose();
}
