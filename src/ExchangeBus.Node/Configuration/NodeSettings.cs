// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using System.Text.Json.Serialization;
using ExchangeBus.Core;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Node.Descriptions;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// The node's local configuration (node.json): who it is, which of its member's subsystems use
/// it as clients, which services it provides and where their backends are, and who may call
/// them. The global configuration says who exists; this says what this node does.
/// </summary>
public sealed record NodeSettings
{
    /// <summary>INSTANCE/CLASS/MEMBER/NODE.</summary>
    public required string Node { get; init; }

    /// <summary>host:port other nodes reach the inter-node listener at (as registered).</summary>
    public required string Address { get; init; }

    public string RegistrationId { get; init; } = string.Empty;

    public IReadOnlyList<ClientSettings> Clients { get; init; } = [];

    public IReadOnlyList<ServiceSettings> Services { get; init; } = [];

    public IReadOnlyList<AccessRule> AccessRules { get; init; } = [];

    /// <summary>
    /// The largest REST (r1) request body this node takes from its agency systems, streamed to
    /// the provider in signed chunks (docs/design/rest-protocol.md, "Bodies"); past it
    /// <c>Client.PayloadTooLarge</c>. Null: <see cref="NodeLimits.MaxPayloadBytes"/>.
    /// </summary>
    public int? MaxRestBodyBytes { get; init; }

    /// <summary>
    /// False (the default): an r1 request declaring a body of at most one chunk (64 KiB) goes
    /// whole by Exchange.Deliver, two signatures, and its answer must then fit one envelope
    /// (4 MiB); longer or undeclared bodies stream. True: every r1 call streams, so an answer of
    /// any size up to the provider's cap comes back (a GET of a large document), at four or
    /// more signatures a call. Either way the choice depends on the request alone.
    /// </summary>
    public bool RestStreamAllCalls { get; init; }

    /// <summary>The client-side REST body cap in force (<see cref="MaxRestBodyBytes"/> or its default).</summary>
    [JsonIgnore]
    public int RestBodyLimit => MaxRestBodyBytes ?? NodeLimits.MaxPayloadBytes;

    /// <summary>
    /// The services' descriptions (<see cref="ServiceSettings.Description"/>) as <see cref="Read"/>
    /// found and checked them, by service id: read with this version of node.json, never later.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, ServiceDescription> Descriptions { get; init; } = new Dictionary<string, ServiceDescription>();

    public const int MaxFileBytes = 4 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static NodeSettings Read(string path)
    {
        NodeSettings? settings;
        try
        {
            // Opened, not looked for first: an editor or a deployment tool replacing the file can
            // have it gone between a look and the open, and a running node's reload must refuse
            // that like a missing file, not throw.
            settings = JsonSerializer.Deserialize<NodeSettings>(AtomicFile.ReadBounded(path, MaxFileBytes), Json);
        }
        catch (PkiException ex) when (string.Equals(ex.Code, PkiErrors.FileNotFound, StringComparison.Ordinal))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsMissing, $"{path} does not exist: run `xbus node init` first.");
        }
        catch (JsonException ex)
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{path} is not valid: {ex.Message}");
        }

        if (settings is null)
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{path} is empty.");
        }

        var problems = settings.Validate().ToArray();
        if (problems.Length > 0)
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{path}: " + string.Join("; ", problems));
        }

        var descriptionProblems = new List<string>();
        var descriptions = ServiceDescriptionFiles.Load(settings.Services, Path.GetDirectoryName(Path.GetFullPath(path))!, descriptionProblems);
        return descriptionProblems.Count == 0
            ? settings with { Descriptions = descriptions }
            : throw new NodeConfigurationException(NodeErrors.DescriptionInvalid, $"{path}: " + string.Join("; ", descriptionProblems));
    }

    /// <summary>Writes atomically: a crash leaves the old file or the new one, never half of one.</summary>
    public void Write(string path)
    {
        var problems = Validate().ToArray();
        if (problems.Length > 0)
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, string.Join("; ", problems));
        }

        AtomicFile.WriteOwnerOnly(path, JsonSerializer.SerializeToUtf8Bytes(this, Json));
    }

    /// <summary>These settings with <paramref name="client"/> in place of any entry for its subsystem.</summary>
    public NodeSettings WithClient(ClientSettings client) =>
        this with { Clients = [.. Clients.Where(c => c.Subsystem != client.Subsystem), client] };

    public NodeSettings WithoutClient(string subsystem) => this with { Clients = [.. Clients.Where(c => c.Subsystem != subsystem)] };

    /// <summary>These settings with <paramref name="service"/> in place of any entry for its id.</summary>
    public NodeSettings WithService(ServiceSettings service) =>
        this with { Services = [.. Services.Where(s => s.Service != service.Service), service] };

    public NodeSettings WithoutService(string service) => this with { Services = [.. Services.Where(s => s.Service != service)] };

    public NodeSettings WithRule(AccessRule rule) => this with { AccessRules = [.. AccessRules.Where(r => r != rule), rule] };

    public NodeSettings WithoutRule(AccessRule rule) => this with { AccessRules = [.. AccessRules.Where(r => r != rule)] };

    /// <summary>The settings as node.json holds them.</summary>
    public System.Text.Json.Nodes.JsonObject ToJson() => JsonSerializer.SerializeToNode(this, Json)!.AsObject();

    /// <summary>Every problem, not the first.</summary>
    public IEnumerable<string> Validate()
    {
        if (!NodeId.TryParse(Node, out var node, out var nodeError))
        {
            yield return $"node: {nodeError!.Message}";
        }

        if (MaxRestBodyBytes is < 1 or > NodeLimits.MaxStreamedBodyBytes)
        {
            yield return $"MaxRestBodyBytes must be 1–{NodeLimits.MaxStreamedBodyBytes} (1 GiB)";
        }

        foreach (var client in Clients)
        {
            if (!SubsystemId.TryParse(client.Subsystem, out var subsystem, out var error))
            {
                yield return $"client '{client.Subsystem}': {error!.Message}";
            }
            else if (node is not null && subsystem!.Member != node.Owner)
            {
                yield return $"client '{client.Subsystem}' is not a subsystem of the node's owner {node.Owner}";
            }

            if (client.TlsCertificateSha256 is { } pin && (pin.Length != 64 || !pin.All(char.IsAsciiHexDigit)))
            {
                yield return $"client '{client.Subsystem}': the TLS certificate's SHA-256 must be 64 hex digits";
            }
        }

        foreach (var service in Services)
        {
            if (!ServiceId.TryParse(service.Service, out var id, out var error))
            {
                yield return $"service '{service.Service}': {error!.Message}";
                continue;
            }

            if (node is not null && id!.Subsystem.Member != node.Owner)
            {
                yield return $"service '{service.Service}' does not belong to the node's owner {node.Owner}";
            }

            if (!Uri.TryCreate(service.Backend.Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"service '{service.Service}': backend address must be an http:// or https:// URL";
            }

            if (service.Backend.Kind == BackendKind.Grpc && service.Backend.Method is not null && !service.Backend.Method.StartsWith('/'))
            {
                yield return $"service '{service.Service}': a gRPC backend's method path starts with '/', e.g. /pkg.Service/Method";
            }

            if (service.Backend.Kind == BackendKind.Grpc && service.Backend.Method is null && service.Backend.GrpcService is null)
            {
                yield return $"service '{service.Service}': a gRPC backend needs its method path (/pkg.Service/Method) or its gRPC service (pkg.Service), or both";
            }

            if (service.Backend.GrpcService is { } grpcService && (service.Backend.Kind != BackendKind.Grpc || grpcService.Length == 0 || grpcService.Contains('/', StringComparison.Ordinal)))
            {
                yield return $"service '{service.Service}': GrpcService is a gRPC backend's full service name, e.g. pkg.Service";
            }

            foreach (var problem in ValidateRestAndBody(service, id!))
            {
                yield return problem;
            }

            if (service.Backend.TimeoutMilliseconds is < 1 or > 600_000)
            {
                yield return $"service '{service.Service}': backend timeout must be 1–600000 ms";
            }

            if (service.MaxMessageBytes is < 1 or > NodeLimits.MaxPayloadBytes)
            {
                yield return $"service '{service.Service}': MaxMessageBytes must be 1–{NodeLimits.MaxPayloadBytes}";
            }
        }

        foreach (var rule in AccessRules)
        {
            if (!ServiceId.TryParse(rule.Service, out _, out var error))
            {
                yield return $"access rule service '{rule.Service}': {error!.Message}";
            }

            if (!AccessRule.TryParseSubject(rule.Subject, out _))
            {
                yield return $"access rule subject '{rule.Subject}' must be a member, a subsystem, or group:INSTANCE/GROUP";
            }
        }
    }

    private static IEnumerable<string> ValidateRestAndBody(ServiceSettings service, ServiceId id)
    {
        // A rest body streams in chunks; an http body is still one envelope.
        var most = service.Backend.Kind == BackendKind.Rest ? NodeLimits.MaxStreamedBodyBytes : NodeLimits.MaxPayloadBytes;
        if (service.MaxBodyBytes is { } max && (max < 1 || max > most))
        {
            yield return service.Backend.Kind == BackendKind.Rest
                ? $"service '{service.Service}': MaxBodyBytes must be 1–{most} (1 GiB) for a rest backend"
                : $"service '{service.Service}': MaxBodyBytes must be 1–{most} for an http backend (one call carries at most that)";
        }

        if (service.MaxBodyBytes is not null && service.Backend.Kind == BackendKind.Grpc)
        {
            yield return $"service '{service.Service}': MaxBodyBytes is for http and rest backends (a gRPC backend's messages are limited by the node)";
        }

        if (service.Backend.Kind != BackendKind.Rest)
        {
            yield break;
        }

        // r1 names a service in five parts: a versioned one could never be called.
        if (id.Version is not null)
        {
            yield return $"service '{service.Service}': a REST service has no version part (r1 calls INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE)";
        }

        if (Uri.TryCreate(service.Backend.Address, UriKind.Absolute, out var uri) && (uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0))
        {
            yield return $"service '{service.Service}': a REST backend's address is a base URL without query, fragment or user info (the caller's path and query are appended)";
        }

        if (service.Backend.Method is not null)
        {
            yield return $"service '{service.Service}': Method is for gRPC backends; a REST caller chooses its own method";
        }
    }
}

public sealed record ClientSettings
{
    /// <summary>INSTANCE/CLASS/MEMBER/SUBSYSTEM, one of the owner's subsystems.</summary>
    public required string Subsystem { get; init; }

    /// <summary>
    /// SHA-256 (hex) of the TLS certificate this system must present on the local listener's TLS
    /// port; null means it may only call over the loopback development port.
    /// </summary>
    public string? TlsCertificateSha256 { get; init; }

    /// <summary>False keeps only the hash of bodies in the message log, for this subsystem's exchanges.</summary>
    public bool LogBodies { get; init; } = true;
}

public enum BackendKind
{
    Grpc,
    Http,

    /// <summary>A REST API reached through X-Road's REST protocol (r1): the caller's method, path, query and headers go to it.</summary>
    Rest,
}

public sealed record BackendSettings
{
    public required BackendKind Kind { get; init; }

    /// <summary>http(s)://host:port for gRPC; the full URL for HTTP; the base URL for REST (the caller's path is appended).</summary>
    public required string Address { get; init; }

    /// <summary>gRPC only: the method path a generic (<c>LocalGateway.Call</c>) call's bytes are sent to, /package.Service/Method.</summary>
    public string? Method { get; init; }

    /// <summary>
    /// gRPC only: the backend's gRPC service (package.Service) whose methods agency systems may
    /// call with their own stubs (transparent gRPC, docs/design/agency-protocols.md). Null: none.
    /// </summary>
    public string? GrpcService { get; init; }

    public int TimeoutMilliseconds { get; init; } = 30_000;
}

public sealed record ServiceSettings
{
    /// <summary>INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION] provided through this node.</summary>
    public required string Service { get; init; }

    public required BackendSettings Backend { get; init; }

    /// <summary>False keeps only the hash of bodies in the message log for this service.</summary>
    public bool LogBodies { get; init; } = true;

    /// <summary>
    /// The service's API description, a file path (relative to node.json's folder): a protobuf
    /// FileDescriptorSet (.pb) for a gRPC backend, an OpenAPI 3 document (.json, .yaml) for
    /// another. Clients allowed to call the service fetch it through their own node
    /// (docs/design/agency-protocols.md, "Service descriptions"). Null: none registered.
    /// </summary>
    public string? Description { get; init; }

    /// <summary>
    /// http and rest backends: the largest request body this node passes to the backend, and the
    /// largest reply it takes back (past it: <c>Client.PayloadTooLarge</c>, <c>Server.ServerProxy.ServiceFailed</c>).
    /// Null: <see cref="NodeLimits.MaxPayloadBytes"/>, also the most one call may carry.
    /// </summary>
    public int? MaxBodyBytes { get; init; }

    /// <summary>The body cap in force (<see cref="MaxBodyBytes"/> or its default).</summary>
    [JsonIgnore]
    public int BodyLimit => MaxBodyBytes ?? NodeLimits.MaxPayloadBytes;

    /// <summary>
    /// The largest request or response message (payload bytes) this service's calls carry, each
    /// message of a stream on its own; a larger one ends the call RESOURCE_EXHAUSTED.
    /// </summary>
    public int MaxMessageBytes { get; init; } = NodeLimits.MaxPayloadBytes;
}

/// <summary>Allows one subject to call one service; everything not allowed is denied.</summary>
public sealed record AccessRule
{
    public required string Service { get; init; }

    /// <summary>A member (INSTANCE/CLASS/MEMBER), a subsystem (…/SUBSYSTEM) or a global group (group:INSTANCE/GROUP).</summary>
    public required string Subject { get; init; }

    public const string GroupPrefix = "group:";

    public static bool TryParseSubject(string subject, out object? parsed)
    {
        parsed = null;
        if (subject.StartsWith(GroupPrefix, StringComparison.Ordinal))
        {
            if (GlobalGroupId.TryParse(subject[GroupPrefix.Length..], out var group, out _))
            {
                parsed = group;
            }
        }
        else if (ClientId.TryParse(subject, out var client, out _))
        {
            parsed = client;
        }

        return parsed is not null;
    }
}
