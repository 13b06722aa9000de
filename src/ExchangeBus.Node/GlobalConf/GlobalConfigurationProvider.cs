// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core;
using ExchangeBus.Core.GlobalConf;
using Grpc.Core;
using ExchangeBus.Node.Configuration;
using Google.Protobuf;

namespace ExchangeBus.Node.GlobalConf;

/// <summary>
/// Keeps the node's copy of the global configuration: polls the registry every refresh
/// interval, accepts only what the anchor's key signed (newer, unexpired, right instance),
/// caches it on disk, and keeps serving from the cache while the registry is down — until the
/// copy expires, when every exchange is refused with OutdatedGlobalConf. It recovers by itself
/// on the next successful poll.
/// </summary>
public sealed partial class GlobalConfigurationProvider : BackgroundService
{
    private readonly GlobalConfigurationVerifier _verifier;
    private readonly NodePaths _paths;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RegistryChannels _registry;
    private volatile GlobalConfigurationView? _latest;

    public GlobalConfigurationProvider(ConfigurationAnchor anchor, NodePaths paths, TimeProvider timeProvider, ILogger<GlobalConfigurationProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        _verifier = new GlobalConfigurationVerifier(anchor, timeProvider);
        _paths = paths;
        _timeProvider = timeProvider;
        _logger = logger;
        _registry = new RegistryChannels(anchor, timeProvider);
        LoadCache();
    }

    /// <summary>The newest verified configuration, even if it has expired since.</summary>
    public GlobalConfigurationView? Latest => _latest;

    /// <summary>Raised after a newer configuration is installed.</summary>
    public event Action<GlobalConfigurationView>? Installed;

    /// <summary>The configuration to act on, or a refusal with <paramref name="outdatedCode"/> if there is none in date.</summary>
    public GlobalConfigurationView Current(string outdatedCode)
    {
        var view = _latest;
        if (view is null)
        {
            throw new NodeException(StatusCode.Unavailable, outdatedCode, "This node has no global configuration yet.");
        }

        if (view.IsExpired(_timeProvider.GetUtcNow()))
        {
            throw new NodeException(StatusCode.Unavailable, outdatedCode,
                $"The global configuration (version {view.Version}) expired at {view.ExpiresAt:u}; the registry has not been reachable since.");
        }

        return view;
    }

    /// <summary>
    /// First start (nothing cached): waits for one configuration, so the node does not begin by
    /// refusing everything; the host starts serving only after this.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_latest is null)
        {
            try
            {
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // The poll loop keeps trying; exchanges answer OutdatedGlobalConf meanwhile.
            }
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the poll in progress to end, whatever is left of the shutdown time.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => base.StopAsync(CancellationToken.None);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => PollAsync(stoppingToken), CancellationToken.None);

    /// <summary>One poll. True if a newer configuration was installed.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var installed = _latest;
        var request = new GetGlobalConfigurationRequest { IfNewerThan = installed?.Version ?? 0 };
        var answer = await _registry.CallAsync(
            channel => new RegistryService.RegistryServiceClient(channel).GetGlobalConfigurationAsync(
                request, new CallOptions(deadline: _timeProvider.GetUtcNow().AddSeconds(30).UtcDateTime, cancellationToken: cancellationToken)).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        if (answer.NotModified || answer.Configuration is null)
        {
            return false;
        }

        var result = _verifier.Verify(answer.Configuration, installed);
        if (!result.IsValid)
        {
            Log.Refused(_logger, result.Code ?? "unknown", result.ReceivedVersion ?? 0);
            return false;
        }

        SaveCache(answer.Configuration);
        Install(result.View!);
        return true;
    }

    /// <summary>The registry addresses polls go to, and the one that answered last.</summary>
    public RegistryChannels Registry => _registry;

    private void Install(GlobalConfigurationView view)
    {
        _latest = view;
        _registry.Learn(view.RegistryAddresses);
        Log.Installed(_logger, view.Version, view.ExpiresAt);
        Installed?.Invoke(view);
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                Log.RegistryUnreachable(_logger, ex.StatusCode);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var interval = _latest?.Parameters.RefreshInterval ?? TimeSpan.FromSeconds(60);
            try
            {
                await Task.Delay(interval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void LoadCache()
    {
        if (!File.Exists(_paths.GlobalConfigurationCache))
        {
            return;
        }

        // The cache is re-verified like anything from the network: the disk is not trusted more.
        var result = _verifier.Verify(AtomicFile.ReadBounded(_paths.GlobalConfigurationCache, 64 * 1024 * 1024), installed: null);
        if (result.IsValid)
        {
            Install(result.View!);
        }
        else
        {
            Log.CacheRefused(_logger, result.Code ?? "unknown");
        }
    }

    private void SaveCache(SignedGlobalConfiguration signed)
    {
        AtomicFile.WriteOwnerOnly(_paths.GlobalConfigurationCache, signed.ToByteArray());
    }

    public override void Dispose()
    {
        base.Dispose();
        _registry.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4000, LogLevel.Information, "Installed global configuration version {Version}, valid until {ExpiresAt}")]
        public static partial void Installed(ILogger logger, ulong version, DateTimeOffset expiresAt);

        [LoggerMessage(4001, LogLevel.Warning, "Refused a global configuration from the registry: {Code} (version {Version})")]
        public static partial void Refused(ILogger logger, string code, ulong version);

        [LoggerMessage(4002, LogLevel.Warning, "The registry is unreachable ({StatusCode}); serving from the cached configuration until it expires")]
        public static partial void RegistryUnreachable(ILogger logger, StatusCode statusCode);

        [LoggerMessage(4003, LogLevel.Warning, "The cached global configuration was refused: {Code}")]
        public static partial void CacheRefused(ILogger logger, string code);
    }
}
