// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Identifiers;
using Google.Protobuf;

namespace ExchangeBus.Node.Rest;

/// <summary>
/// An r1 request taken apart (PR-REST 4.1): who calls which service, and what the provider's
/// REST backend is to receive. <see cref="Path"/> and <see cref="Query"/> stay exactly as the
/// caller encoded them (4.5: query parameters pass unmodified).
/// </summary>
public sealed record RestRequest(
    string Method,
    ServiceId Service,
    SubsystemId Client,
    string Path,
    string Query,
    string? XRoadId,
    string UserId,
    string Issue,
    string? RepresentedParty,
    IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>
    /// The generic call that carries this request over the bus: the body is the payload, the
    /// REST parts ride in the metadata, which the client's node signs into the request header
    /// (docs/design/rest-protocol.md, "How the request crosses the bus").
    /// </summary>
    public CallRequest ToCallRequest(ByteString body)
    {
        var call = new CallRequest
        {
            Service = Service.ToString(),
            Client = Client.ToString(),
            UserId = UserId,
            Issue = Issue,
            Payload = body,
        };
        call.Metadata[RestMetadata.Method] = Method;
        call.Metadata[RestMetadata.Path] = Path;
        call.Metadata[RestMetadata.Query] = Query;
        if (XRoadId is not null)
        {
            call.Metadata[RestMetadata.XRoadId] = XRoadId;
        }

        if (RepresentedParty is not null)
        {
            call.Metadata[RestMetadata.RepresentedParty] = RepresentedParty;
        }

        foreach (var (name, value) in Headers)
        {
            call.Metadata[RestMetadata.HeaderPrefix + name] = value;
        }

        return call;
    }
}
