// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Rest;

/// <summary>
/// Why an r1 request was refused before it reached the bus: <paramref name="Type"/> is the X-Road
/// error type the caller sees (a <see cref="NodeErrors"/> code), <paramref name="Reason"/> one of
/// <see cref="RestReasons"/>, which says which rule failed so tests and operators need not match text.
/// </summary>
public sealed record RestRefusal(string Type, string Reason, string Message);

/// <summary>Stable reasons for refusing an r1 request (docs/design/rest-protocol.md, "Refusals"); never renamed once published.</summary>
public static class RestReasons
{
    public const string NotR1 = "Rest.NotR1";
    public const string MissingServiceId = "Rest.MissingServiceId";
    public const string InvalidService = "Rest.InvalidService";
    public const string MissingClient = "Rest.MissingClient";
    public const string InvalidClient = "Rest.InvalidClient";
    public const string InvalidPath = "Rest.InvalidPath";
    public const string UriTooLong = "Rest.UriTooLong";
    public const string InvalidHeader = "Rest.InvalidHeader";
    public const string InvalidMethod = "Rest.InvalidMethod";

    /// <summary>The body is longer than the client node takes (node.json <c>maxRestBodyBytes</c>, <see cref="Configuration.NodeSettings.RestBodyLimit"/>).</summary>
    public const string BodyTooLarge = "Rest.BodyTooLarge";

    /// <summary><c>getOpenAPI</c> without exactly one <c>serviceCode</c> query parameter.</summary>
    public const string MissingServiceCode = "Rest.MissingServiceCode";

    /// <summary><c>getOpenAPI</c> for a service whose registered description is not an OpenAPI document (a gRPC service's descriptor set).</summary>
    public const string NotOpenApi = "Rest.NotOpenApi";

    /// <summary>The provider's node answered a metaservice with something that does not parse.</summary>
    public const string InvalidMetaserviceAnswer = "Rest.InvalidMetaserviceAnswer";
}
