// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Health;
using ExchangeBus.Grpc.Internal;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ExchangeBus.Grpc;

public static class GrpcServerExtensions
{
    /// <summary>Registers the gRPC server runtime and the standard health service.</summary>
    public static IServiceCollection AddBusGrpc(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        var options = services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => !o.Validate().Any(), "Invalid gRPC server options.").ValidateOnStart();
        services.Configure<KestrelServerOptions>(ServerTransport.ApplyTo);
        services.Configure<SocketTransportOptions>(ServerTransport.ApplyTo);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrpcServerRuntime>();
        services.TryAddSingleton<HealthService>();
        services.AddRouting();
        return services;
    }

    /// <summary>
    /// Maps every method of the given services, the health service, and an UNIMPLEMENTED answer
    /// for any other gRPC path. Other HTTP endpoints on the same listener are unaffected.
    /// </summary>
    public static IEndpointRouteBuilder MapBusGrpc(this IEndpointRouteBuilder endpoints, params GrpcServiceDefinition[] services)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var runtime = endpoints.ServiceProvider.GetRequiredService<GrpcServerRuntime>();
        var health = endpoints.ServiceProvider.GetRequiredService<HealthService>();
        foreach (var definition in services.Append(health.Definition))
        {
            foreach (var method in definition.Methods)
            {
                endpoints.MapPost(method.FullName, httpContext => ConnectionActivity.TrackAsync(httpContext, () => method.HandleAsync(httpContext, runtime)))
                    .WithDisplayName("gRPC " + method.FullName);
            }
        }

        endpoints.MapFallback(httpContext => UnimplementedAsync(httpContext, runtime));
        return endpoints;
    }

    private static Task UnimplementedAsync(HttpContext httpContext, GrpcServerRuntime runtime)
    {
        if (!GrpcProtocol.IsGrpcContentType(httpContext.Request.ContentType))
        {
            httpContext.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!ServerCallProtocol.AcceptRequest(httpContext, runtime, out _))
        {
            return Task.CompletedTask;
        }

        GrpcServerLog.UnknownMethod(runtime.Logger, Truncate(httpContext.Request.Path.Value ?? string.Empty));
        return ServerCallProtocol.WriteStatusAsync(
            httpContext,
            new Status(StatusCode.Unimplemented, "Method is unimplemented."),
            Metadata.Empty,
            Metadata.Empty);
    }

    private static string Truncate(string value) => value.Length <= 200 ? value : value[..200];
}
