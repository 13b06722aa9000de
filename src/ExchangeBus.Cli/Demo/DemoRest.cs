// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Node.Rest;

namespace ExchangeBus.Cli.Demo;

/// <summary>
/// The demo's REST step (docs/clients.md, "REST"): an agency system calls a provider's REST
/// service with X-Road's r1 form, <c>GET /r1/{service}/{path}</c> and <c>X-Road-Client</c>, on its
/// own node, and reads the X-Road headers the nodes put on the answer.
/// </summary>
internal static class DemoRest
{
    /// <summary>The path after the service code: the licence backend's own <c>GET /licences/{id}</c>.</summary>
    public static string LicencePath => $"/licences/{DemoTypedGrpc.KnownCitizen}";

    private static readonly string[] Shown = [RestHeaders.Id, RestHeaders.Client, RestHeaders.Service, RestHeaders.RequestId, RestHeaders.RequestHash];

    public static async Task RunAsync(TextWriter output, string nodeAddress, string client, string service, CancellationToken cancellationToken)
    {
        var url = Url(nodeAddress, service);
        output.WriteLine($"      GET {url}");
        output.WriteLine($"          {RestHeaders.Client}: {client}");

        // The development node's plaintext listener speaks HTTP/2 only (h2c, no upgrade): ask for
        // exactly that. Over the local TLS port an ordinary HTTP/1.1 client works as well.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Add(RestHeaders.Client, client);
        request.Headers.Add(RestHeaders.UserId, "officer-042");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine($"        {(int)response.StatusCode} {response.Content.Headers.ContentType}: {body}");
        foreach (var name in Shown)
        {
            output.WriteLine($"        {name}: {(response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : "(absent)")}");
        }
    }

    /// <summary>The r1 address of the licence resource on a client's node.</summary>
    public static string Url(string nodeAddress, string service) => $"{nodeAddress.TrimEnd('/')}{RestGateway.PathPrefix}/{service}{LicencePath}";

    /// <summary>The same call for a shell; curl needs to be told the plaintext port speaks HTTP/2.</summary>
    public static string CurlLine(string nodeAddress, string client, string service) =>
        $"curl -i --http2-prior-knowledge -H '{RestHeaders.Client}: {client}' {Url(nodeAddress, service)}";
}
