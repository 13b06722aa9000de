// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.TrustServices;
using ExchangeBus.Registry.WebConsole;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

public static class RegistryServiceCollectionExtensions
{
    /// <summary>A registry started from <paramref name="options"/> as they are (the start facade, tests); still validated at start.</summary>
    public static OptionsBuilder<RegistryServerOptions> AddExchangeBusRegistry(this IServiceCollection services, RegistryServerOptions options) =>
        services.AddExchangeBusRegistry().FromInstance(options);

    /// <summary>
    /// Registers a registry: its store, keys and trust services as singletons, the configuration
    /// refresh as a hosted service, its two Kestrel listeners and the gRPC stack. Bind or
    /// configure the returned options; they are validated at start. Then
    /// <see cref="RegistryEndpointRouteBuilderExtensions.MapExchangeBusRegistry"/> maps its endpoints.
    /// </summary>
    public static OptionsBuilder<RegistryServerOptions> AddExchangeBusRegistry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RegistryServerOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegistryServerOptions>, RegistryServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<HostOptions>().Configure<IOptions<RegistryServerOptions>>((host, registry) => host.ShutdownTimeout = registry.Value.ShutdownTimeout);

        services.AddSingleton(provider => RegistryKeys.Load(KeyFile(provider, string.Empty), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => RegistryDatabase.OpenInitialised(Options(provider).DataDirectory, Options(provider).Postgres));
        services.AddSingleton(provider => new RegistryStore(
            provider.GetRequiredService<RegistryDatabase>(), provider.GetRequiredService<RegistryKeys>(), provider.GetRequiredService<TimeProvider>())
        {
            RegistrationLimits = new RegistrationLimits(Options(provider).PendingRegistrationMaxAge, Options(provider).MaxPendingRegistrations),
        });
        services.AddSingleton<IConsoleAccountStore>(provider => provider.GetRequiredService<RegistryStore>());
        services.AddSingleton(provider => provider.GetRequiredService<RegistryStore>().Accounts);
        services.AddSingleton<IConsoleCertificateCheck, RegistryConsoleCertificates>();
        services.AddWebConsole(typeof(RegistryConsolePolicies).Assembly, provider => Options(provider).Console,
                provider => Path.Combine(Options(provider).DataDirectory, RegistryConsoleCertificate.KeysFolder))
            .AddRolePolicy(RegistryConsolePolicies.DecideRegistrations, ConsoleRole.RegistrationOfficer)
            .AddRolePolicy(RegistryConsolePolicies.ManageMembers, ConsoleRole.RegistrationOfficer)
            .AddRolePolicy(RegistryConsolePolicies.ManageMemberClasses, ConsoleRole.SystemAdministrator)
            .AddRolePolicy(RegistryConsolePolicies.ManageGlobalGroups, ConsoleRole.RegistrationOfficer)
            .AddRolePolicy(RegistryConsolePolicies.RevokeCertificates, ConsoleRole.SecurityOfficer)
            .AddRolePolicy(RegistryConsolePolicies.VerifyAuditLog, ConsoleRole.Auditor, ConsoleRole.SecurityOfficer, ConsoleRole.SystemAdministrator);
        services.AddSingleton<RegistryMetrics>();
        services.AddSingleton(provider => new CertificateChainValidator([provider.GetRequiredService<RegistryKeys>().RootCertificate], provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RegistryCalls>();
        services.AddSingleton(provider => TimeStampAuthority.Load(
            KeyFile(provider, DevelopmentPki.TimeStampingCertificateFile), KeyFile(provider, DevelopmentPki.TimeStampingKeyFile),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<TimeStampAuthority>>()));
        services.AddSingleton(provider => OcspResponder.Load(
            KeyFile(provider, DevelopmentPki.RootCertificateFile), KeyFile(provider, DevelopmentPki.OcspCertificateFile), KeyFile(provider, DevelopmentPki.OcspKeyFile),
            provider.GetRequiredService<RegistryStore>(), provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<OcspResponder>>()));

        services.AddHostedService<RegistryRefresh>();
        services.AddSingleton<RegistryReadiness>();
        services.AddHostedService(provider => provider.GetRequiredService<RegistryReadiness>());

        services.AddSingleton<RegistryListeners>();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(provider => provider.GetRequiredService<RegistryListeners>());
        services.AddBusGrpc().AddCheck<RegistryReadiness>(RegistryReadiness.Name);

        // Per service, after the bus's defaults: what a stranger may make the registry read.
        services.AddGrpc()
            .AddServiceOptions<RegistryPublicService>(o => o.MaxReceiveMessageSize = RegistryPublicService.MaxRequestBytes)
            .AddServiceOptions<RegistryManagementService>(o => o.MaxReceiveMessageSize = RegistryManagementService.MaxRequestBytes);
        services.AddRegistryRateLimiting();
        services.AddBusListeners();
        services.ReflectServicesOf(RegistryListeners.Grpc);
        return options;
    }

    private static RegistryServerOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<RegistryServerOptions>>().Value;

    private static string KeyFile(IServiceProvider provider, string file) => Path.Combine(Options(provider).DataDirectory, RegistryKeys.Folder, file);
}
