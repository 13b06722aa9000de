// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// The answer an r1 caller gets: the backend's status and forwardable headers as they crossed
/// the bus (category 1 of PR-REST 4.6: returned as-is), then the X-Road headers the nodes set,
/// which overwrite any a backend sent (4.3: "in that case they will be overwritten").
/// </summary>
public static class RestResponseHeaders
{
    /// <summary>Sets status and headers from a response's signed metadata; the client's node filters again rather than trust the provider's.</summary>
    public static void ApplyBackend(HttpResponse response, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(metadata);
        response.StatusCode = metadata.TryGetValue(RestMetadata.Status, out var status) && int.TryParse(status, out var code) && code is >= 200 and <= 599
            ? code
            : StatusCodes.Status200OK;
        foreach (var (key, value) in metadata)
        {
            if (key.StartsWith(RestMetadata.HeaderPrefix, StringComparison.Ordinal) && key[RestMetadata.HeaderPrefix.Length..] is { } name && RestHeaders.IsForwardable(name))
            {
                response.Headers[name] = value.Split(RestMetadata.ValueSeparator);
            }
        }
    }

    /// <summary>
    /// <c>X-Road-Id</c> (the caller's, else our message id), <c>X-Road-Client</c>, <c>X-Road-Service</c>,
    /// <c>X-Road-Request-Id</c> (our message id) and <c>X-Road-Request-Hash</c> (base64 of the
    /// request hash the provider signed into its response; docs/design/rest-protocol.md says why not X-Road's SHA-512).
    /// </summary>
    public static void ApplyXRoad(IHeaderDictionary headers, string? xroadId, SubsystemId client, ServiceId service, string messageId, ReadOnlySpan<byte> requestHash)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(service);
        headers[RestHeaders.Id] = xroadId ?? messageId;
        headers[RestHeaders.Client] = client.ToString();
        headers[RestHeaders.Service] = service.ToString();
        headers[RestHeaders.RequestId] = messageId;
        headers[RestHeaders.RequestHash] = Convert.ToBase64String(requestHash);
    }
}
