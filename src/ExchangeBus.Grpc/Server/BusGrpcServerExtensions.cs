// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc.Internal;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Grpc;

public static class BusGrpcServerExtensions
{
    /// <summary>
    /// Registers Grpc.AspNetCore with the bus's message limits and error interceptor, server
    /// reflection, the standard <c>grpc.health.v1</c> service over ASP.NET Core health checks,
    /// the bus's transport settings on Kestrel, and <see cref="BytesGrpcService"/> for hosts that
    /// serve methods known only at run time. Add health checks to the returned builder.
    /// </summary>
    public static IHealthChecksBuilder AddBusGrpc(this IServiceCollection services, Action<BusGrpcServerOptions>? configure = null)
    {
        var options = services.AddOptions<BusGrpcServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        services.AddGrpc(grpc =>
        {
            // Exception text can hold anything: peers get a code and a correlation id only.
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<ErrorInterceptor>();
        });
        services.AddOptions<GrpcServiceOptions>()
            .Configure<IOptions<BusGrpcServerOptions>>((grpc, bus) =>
            {
                grpc.MaxReceiveMessageSize = bus.Value.MaxReceiveMessageSize;
                grpc.MaxSendMessageSize = bus.Value.MaxSendMessageSize;

                // No compression. The runtime inflates a compressed message whole before checking
                // any limit (MaxReceiveMessageSize bounds only the compressed bytes), so a 4 MiB
                // gzip message from any peer could cost gigabytes. Registered after AddGrpc's
                // defaults (gzip, deflate), so this empties the list they filled: a compressed
                // message is then answered UNIMPLEMENTED, as gRPC's compression spec asks.
                grpc.CompressionProviders.Clear();
            });
        services.AddGrpcReflection();
        services.Configure<KestrelServerOptions>(ServerTransport.ApplyTo);
        services.Configure<SocketTransportOptions>(ServerTransport.ApplyTo);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BytesGrpcMethods>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<BytesGrpcService>, BytesGrpcMethods.Provider>());
        return services.AddGrpcHealthChecks();
    }

    /// <summary>
    /// Maps what every bus gRPC listener serves besides its own services: <c>grpc.health.v1</c>,
    /// server reflection where <paramref name="reflection"/> is set (listeners whose callers may
    /// discover the services; not the inter-node one), and counts each call as activity on its
    /// connection for the idle guard (<see cref="ConnectionLimits.IdleTimeout"/>).
    /// </summary>
    public static WebApplication MapBusGrpc(this WebApplication app, bool reflection)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use((httpContext, next) => ConnectionActivity.TrackAsync(httpContext, () => next(httpContext)));
        app.MapGrpcHealthChecksService();
        if (reflection)
        {
            app.MapGrpcReflectionService();
        }

        return app;
    }

    /// <summary>
    /// <see cref="MapBusGrpc(WebApplication, bool)"/> for a host whose listeners are kept apart
    /// (<see cref="BusListeners"/>): health on <paramref name="healthOn"/>, reflection on
    /// <paramref name="reflectionOn"/> only, listing only that listener's services (null: the host
    /// maps a reflection service of its own). Call it before mapping any other gRPC service: the
    /// runtime's catch-all "unimplemented service" endpoint comes with the first service mapped,
    /// so it answers on every listener health is on.
    /// </summary>
    public static WebApplication MapBusGrpc(this WebApplication app, string[] healthOn, string? reflectionOn)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use((httpContext, next) => ConnectionActivity.TrackAsync(httpContext, () => next(httpContext)));
        app.MapGrpcHealthChecksService().OnListeners(healthOn);
        if (reflectionOn is not null)
        {
            app.MapGrpcReflectionService().OnListeners(reflectionOn);
        }

        return app;
    }

    /// <summary>Maps methods with raw byte messages (an agency backend's, a benchmark's), added by <paramref name="add"/>.</summary>
    public static WebApplication MapBytesGrpcService(this WebApplication app, Action<BytesGrpcMethods> add)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(add);
        add(app.Services.GetRequiredService<BytesGrpcMethods>());
        app.MapGrpcService<BytesGrpcService>();
        return app;
    }
}
