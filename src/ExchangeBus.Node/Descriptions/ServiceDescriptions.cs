// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Caching.Memory;

namespace ExchangeBus.Node.Descriptions;

/// <summary>
/// The client's side of service descriptions (docs/design/agency-protocols.md, "Service
/// descriptions"): a description, and the list of services a client may call on a provider,
/// are metaservice calls to the provider's node through <see cref="ClientExchange"/> (signed,
/// logged, access-checked there like any call), kept here for a while so server reflection
/// does not cross the bus on every request. The cache never stands in for the local check:
/// every lookup first authenticates the caller as the client it names, as a call would.
/// Refusals (no description, not allowed, unknown service) are kept for a shorter while;
/// failures to reach the provider are not kept at all.
/// </summary>
public sealed class ServiceDescriptions(ClientExchange exchange, NodeSettingsSource settingsSource, TimeProvider time) : IDisposable
{
    /// <summary>How long a fetched description or allowed list is used before it is asked for again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>How long a provider's refusal is remembered.</summary>
    public static readonly TimeSpan RefusalLifetime = TimeSpan.FromSeconds(30);

    /// <summary>Entries kept at most (each a description or a list of service ids); past it, the cache compacts (least recently used first).</summary>
    public const int MaxEntries = 1024;

    /// <summary>How long one fetch may take when the caller sets no deadline.</summary>
    public static readonly TimeSpan FetchDeadline = TimeSpan.FromSeconds(30);

    // The cache's expirations follow the node's TimeProvider, as every other clock in the node
    // does, so a test's fake time moves them too.
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries, Clock = new TimeProviderClock(time) });

    private sealed class TimeProviderClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }

    /// <summary>
    /// The description of <paramref name="service"/> for <paramref name="client"/> (a subsystem
    /// registered on this node, called as by <paramref name="caller"/>). Throws the same coded
    /// <see cref="RpcException"/> a call would: <see cref="NodeErrors.NoServiceDescription"/>,
    /// <see cref="NodeErrors.AccessDenied"/>, <see cref="NodeErrors.UnknownService"/>, ...
    /// </summary>
    public Task<ServiceDescription> GetAsync(string client, string service, ClientExchange.Caller caller, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken)
    {
        var clientId = Authenticate(client, caller, correlationId);
        if (!ServiceId.TryParse(service, out var serviceId, out var error))
        {
            throw RichStatus.Error(StatusCode.InvalidArgument, NodeErrors.InvalidIdentifier, $"Invalid service identifier: {error!.Message}", correlationId);
        }

        var request = new GetServiceDescriptionRequest { Service = serviceId.ToString() };
        return CachedAsync(
            ("description", clientId.ToString(), serviceId.ToString()),
            () => MetaserviceAsync(clientId, serviceId!.Subsystem, ProviderExchange.GetServiceDescriptionService, request.ToByteString(), deadline, caller, correlationId, cancellationToken),
            payload => ServiceDescription.Parser.ParseFrom(payload) is var d && string.Equals(d.Service, request.Service, StringComparison.Ordinal)
                ? d
                : throw RichStatus.Error(StatusCode.DataLoss, NodeErrors.InvalidResponse, "The provider described another service.", correlationId),
            correlationId);
    }

    /// <summary>The services of <paramref name="provider"/> that <paramref name="client"/> may call (allowedMethods).</summary>
    public Task<IReadOnlyList<string>> AllowedAsync(string client, SubsystemId provider, ClientExchange.Caller caller, DateTimeOffset? deadline, string correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var clientId = Authenticate(client, caller, correlationId);
        return CachedAsync<IReadOnlyList<string>>(
            ("allowed", clientId.ToString(), provider.ToString()),
            () => MetaserviceAsync(clientId, provider, ProviderExchange.AllowedMethodsService, ByteString.Empty, deadline, caller, correlationId, cancellationToken),
            payload => [.. ListMethodsResponse.Parser.ParseFrom(payload).Services],
            correlationId);
    }

    public void Dispose() => _cache.Dispose();

    /// <summary>The client, registered on this node and called as it must be (<see cref="ClientExchange.Authenticate"/>); a coded <see cref="RpcException"/> if not.</summary>
    public SubsystemId Authenticate(string client, ClientExchange.Caller caller, string correlationId)
    {
        try
        {
            if (!SubsystemId.TryParse(client, out var clientId, out var error))
            {
                throw new NodeException(StatusCode.InvalidArgument, NodeErrors.InvalidIdentifier, $"Invalid client identifier: {error!.Message}");
            }

            ClientExchange.Authenticate(settingsSource.Current, clientId!, caller);
            return clientId!;
        }
        catch (NodeException ex)
        {
            throw ex.ToRpc(correlationId);
        }
    }

    private async Task<ByteString> MetaserviceAsync(
        SubsystemId client, SubsystemId provider, string code, ByteString payload, DateTimeOffset? deadline, ClientExchange.Caller caller, string correlationId, CancellationToken cancellationToken)
    {
        var reply = await exchange.CallAsync(
            new CallRequest { Client = client.ToString(), Service = $"{provider}/{code}", Payload = payload },
            caller, deadline ?? time.GetUtcNow() + FetchDeadline, correlationId, cancellationToken).ConfigureAwait(false);
        return reply.Payload;
    }

    /// <summary>
    /// One fetch per key while it lives. A provider's refusal is kept as its code and text, and
    /// thrown again with the current caller's correlation id.
    /// </summary>
    private async Task<T> CachedAsync<T>((string, string, string) key, Func<Task<ByteString>> fetch, Func<ByteString, T> parse, string correlationId)
    {
        if (_cache.TryGetValue(key, out var kept))
        {
            return kept is Refusal refusal ? throw RichStatus.Error(refusal.Status, refusal.Code, refusal.Message, correlationId) : (T)kept!;
        }

        T value;
        try
        {
            value = parse(await fetch().ConfigureAwait(false));
        }
        catch (InvalidProtocolBufferException)
        {
            throw RichStatus.Error(StatusCode.DataLoss, NodeErrors.InvalidResponse, "The provider's metaservice answer does not parse.", correlationId);
        }
        catch (RpcException ex) when (ex.ErrorCode is NodeErrors.NoServiceDescription or NodeErrors.AccessDenied or NodeErrors.UnknownService)
        {
            _cache.Set(key, new Refusal(ex.StatusCode, ex.ErrorCode!, ex.Status.Detail), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = RefusalLifetime });
            throw;
        }

        _cache.Set(key, (object)value!, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });
        return value;
    }

    private sealed record Refusal(StatusCode Status, string Code, string Message);
}
