// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Descriptions;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.Rest;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

public static class NodeServiceCollectionExtensions
{
    /// <summary>
    /// A node started from <paramref name="options"/> as they are (the start facade, tests);
    /// they are still validated at start.
    /// </summary>
    public static OptionsBuilder<NodeServerOptions> AddExchangeBusNode(this IServiceCollection services, NodeServerOptions options) =>
        services.AddExchangeBusNode().FromInstance(options);

    /// <summary>
    /// Registers a node: its parts as singletons, its loops as hosted services, its Kestrel
    /// listeners and the gRPC stack. Bind or configure the returned options; they are validated
    /// at start (<see cref="NodeServerOptionsValidator"/>, every problem at once). Then
    /// <see cref="NodeEndpointRouteBuilderExtensions.MapExchangeBusNode"/> maps its endpoints.
    /// </summary>
    public static OptionsBuilder<NodeServerOptions> AddExchangeBusNode(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<NodeServerOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NodeServerOptions>, NodeServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<HostOptions>().Configure<IOptions<NodeServerOptions>>((host, node) => host.ShutdownTimeout = node.Value.ShutdownTimeout);

        // What the node is: its folder, anchor, settings, keys.
        services.AddSingleton(provider => new NodePaths(Options(provider).DataDirectory));
        services.AddSingleton(provider => Anchor(provider.GetRequiredService<NodePaths>(), Options(provider).Production));
        services.AddSingleton(provider => NodeSettingsSource.Open(
            provider.GetRequiredService<NodePaths>().Settings, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<NodeSettingsSource>>()));
        services.AddSingleton(provider => NodeId.Parse(provider.GetRequiredService<NodeSettingsSource>().Current.Node));
        services.AddSingleton(provider => NodeKeys.Load(provider.GetRequiredService<NodePaths>()));

        // Trust and transport.
        services.AddSingleton<GlobalConfigurationProvider>();
        services.AddSingleton<OwnCertificateStatus>();
        services.AddSingleton<PeerCertificateStatus>();
        services.AddSingleton<EnvelopeVerification>();
        services.AddSingleton<PeerChannels>();
        services.AddSingleton<EnvelopeSigningQueue>();
        services.AddSingleton<BackendInvoker>();
        services.AddNodeMetrics();

        // Evidence: the message log and its time-stamped tree heads.
        services.AddSingleton(provider => SqliteMessageLog.Open(
            provider.GetRequiredService<NodePaths>().MessageLog, Options(provider).MessageLog,
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<SqliteMessageLog>>()));
        services.AddSingleton<TreeHeadStamper>();

        // Files.
        services.AddSingleton(provider =>
        {
            var files = FileSync.Open(
                provider.GetRequiredService<SqliteMessageLog>(), provider.GetRequiredService<NodePaths>(), Options(provider).Files, provider.GetRequiredService<ILogger<FileSync>>());

            // Following Receive streams never end on their own: they end when stopping begins, so
            // the listeners' drain does not wait for them.
            provider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(files.BeginClosing);
            return files;
        });
        services.AddSingleton<FileSigner>();
        services.AddSingleton<DeliveryWorker>();
        services.AddSingleton<DeliveryRetry>();
        services.AddSingleton<FileHousekeeping>();

        // The gRPC services.
        services.AddSingleton<ClientExchange>();
        services.AddSingleton<ServiceDescriptions>();
        services.AddSingleton<LocalReflection>();
        services.AddSingleton<LocalReflection.V1Alpha>();
        services.AddSingleton<LocalReflection.V1>();
        services.AddSingleton<LocalGateway>();
        services.AddSingleton<TransparentGrpc>();
        services.AddSingleton<RestGateway>();
        services.AddSingleton<GrpcMethodKinds>();

        // The runtime would add an "unimplemented method" endpoint for TransparentGrpc.AnyMethod's
        // service, a route as specific as AnyMethod's own: every call would match both.
        services.AddGrpc().AddServiceOptions<BytesGrpcService>(o => o.IgnoreUnknownServices = true);
        services.AddSingleton<LocalFiles>();
        services.AddSingleton<ProviderExchange>();
        services.AddSingleton<NodeAuditService>();
        services.AddRateLimiter(o => o.AddPolicy<string, AuditCallerRateLimit>(AuditCallerRateLimit.PolicyName));
        services.AddSingleton<FileReceiver>();

        // The operators' and auditors' web console (mapped only when console.listen is set).
        services.AddSingleton(provider => NodeAdminDatabase.Open(provider.GetRequiredService<NodePaths>()));
        services.AddSingleton(provider => provider.GetRequiredService<NodeAdminDatabase>().Accounts(provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IConsoleAccountStore>(provider => provider.GetRequiredService<AuditedAccountStore>());
        services.AddSingleton<IConsoleCertificateCheck, NodeConsoleCertificates>();
        services.AddSingleton(provider => new NodeSettingsEditor(
            provider.GetRequiredService<NodePaths>(), provider.GetRequiredService<AuditedAccountStore>(), provider.GetRequiredService<TimeProvider>()));
        services.AddWebConsole(typeof(NodeConsolePolicies).Assembly, provider => Options(provider).Console,
                provider => provider.GetRequiredService<NodePaths>().ConsoleKeys)
            .AddNodePolicies();

        // The loops, started in this order before the listeners (the configuration first: the
        // OCSP status needs its responder) and stopped in the reverse order after them, before
        // the message log they write to is disposed with the container.
        services.AddHostedService(provider => provider.GetRequiredService<GlobalConfigurationProvider>());
        services.AddHostedService(provider => provider.GetRequiredService<OwnCertificateStatus>());
        services.AddHostedService(provider => provider.GetRequiredService<EnvelopeSigningQueue>());
        services.AddHostedService(provider => provider.GetRequiredService<TreeHeadStamper>());
        services.AddHostedService(provider => provider.GetRequiredService<DeliveryWorker>());
        services.AddHostedService(provider => provider.GetRequiredService<FileHousekeeping>());
        services.AddHostedService<NodeSettingsPolling>();

        // Listeners: one Kestrel, each listener serving only its own endpoints.
        services.AddSingleton<PeerTrustSource>();
        services.AddSingleton<NodeListeners>();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(provider => provider.GetRequiredService<NodeListeners>());
        services.AddSingleton<ConfigurationInDate>();
        services.AddBusGrpc(o =>
        {
            o.MaxReceiveMessageSize = NodeLimits.MaxMessageBytes;
            o.MaxSendMessageSize = NodeLimits.MaxMessageBytes;
        }).AddCheck<ConfigurationInDate>(ConfigurationInDate.Name);
        services.AddBusListeners();
        return options;
    }

    private static NodeServerOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<NodeServerOptions>>().Value;

    private static ConfigurationAnchor Anchor(NodePaths paths, bool production)
    {
        var anchor = ConfigurationAnchor.Read(paths.Anchor);
        anchor.EnsureRegistryPinned();
        if (production && anchor.SigningCertificates.Concat(anchor.RegistryTlsTrustRoots).Any(DevelopmentPki.IsDevelopmentCertificate))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid,
                "This node is started for production but its anchor holds development certificates (certs-dev).");
        }

        return anchor;
    }
}
