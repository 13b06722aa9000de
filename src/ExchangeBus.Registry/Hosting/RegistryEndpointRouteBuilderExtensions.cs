// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.TrustServices;
using ExchangeBus.WebConsole.Hosting;

namespace ExchangeBus.Registry.Hosting;

public static class RegistryEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a registry's endpoints, each on its own listener (<see cref="RegistryListeners"/>):
    /// the gRPC services, gRPC health and reflection on the TLS listener only; time-stamping,
    /// OCSP and <c>/health/*</c> on the HTTP/1.1 one; the web console's pages on its own HTTPS listener. The gRPC services go through the
    /// anonymous-call rate limiter (<see cref="RegistryRateLimiting"/>).
    /// </summary>
    public static WebApplication MapExchangeBusRegistry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapBusGrpc(healthOn: [RegistryListeners.Grpc], reflectionOn: RegistryListeners.Grpc);
        app.UseRateLimiter();
        app.MapGrpcService<RegistryPublicService>().OnListeners(RegistryListeners.Grpc).RequireRateLimiting(RegistryRateLimiting.Policy);
        app.MapGrpcService<RegistryManagementService>().OnListeners(RegistryListeners.Grpc).RequireRateLimiting(RegistryRateLimiting.Policy);
        app.MapTrustServices(app.Services.GetRequiredService<TimeStampAuthority>(), app.Services.GetRequiredService<OcspResponder>())
            .OnListeners(RegistryListeners.Http);
        app.MapGet("/health/live", () => Results.Text("live")).OnListeners(RegistryListeners.Http);
        app.MapGet("/health/ready", (RegistryReadiness readiness) => readiness.IsReady
            ? Results.Text("ready")
            : Results.Text(RegistryReadiness.NotReady, statusCode: StatusCodes.Status503ServiceUnavailable)).OnListeners(RegistryListeners.Http);
        app.MapWebConsole(RegistryListeners.Console);
        return app;
    }
}
