// SPDX-License-Identifier: Apache-2.0
using System.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Reflection;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ExchangeBus.Grpc;

/// <summary>
/// One host, several listeners that must not serve each other's endpoints (a node's peers must
/// never reach the API its agency's systems use). Each Kestrel listener names its connections
/// (<see cref="Named"/>, a connection feature no request can set), each endpoint names the
/// listeners that serve it (<see cref="OnListeners{TBuilder}"/>), and a matcher policy drops
/// every candidate endpoint the connection's listener may not serve. Deny by default: an endpoint
/// that names no listener is served nowhere. A gRPC method dropped this way falls through to
/// gRPC's own "unimplemented" endpoints, so the caller gets UNIMPLEMENTED as for any unknown method.
/// </summary>
public static class BusListeners
{
    /// <summary>Registers the policy that keeps each listener to its own endpoints.</summary>
    public static IServiceCollection AddBusListeners(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ListenerPolicy>());
        return services;
    }

    /// <summary>Names every connection this listener accepts; endpoints choose listeners by this name.</summary>
    public static ListenOptions Named(this ListenOptions listenOptions, string name)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        var feature = new ListenerFeature(name);
        listenOptions.Use(next => connection =>
        {
            connection.Features.Set(feature);
            return next(connection);
        });
        return listenOptions;
    }

    /// <summary>The name of the listener the request came in on (<see cref="Named"/>), or null for an unnamed one.</summary>
    public static string? ListenerOf(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return httpContext.Features.Get<ListenerFeature>()?.Name;
    }

    /// <summary>Serves these endpoints on the named listeners only.</summary>
    public static TBuilder OnListeners<TBuilder>(this TBuilder builder, params string[] listeners)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new ListenersMetadata(listeners));
    }

    /// <summary>
    /// Server reflection lists only the gRPC services <paramref name="listener"/> serves (the
    /// runtime's default lists every service the host maps, whichever listener serves it).
    /// </summary>
    public static IServiceCollection ReflectServicesOf(this IServiceCollection services, string listener)
    {
        services.Replace(ServiceDescriptor.Singleton(provider => new ReflectionServiceImpl(ServicesOf(provider, listener))));
        services.Replace(ServiceDescriptor.Singleton(provider => new ReflectionV1ServiceImpl(ServicesOf(provider, listener))));
        return services;
    }

    /// <summary>The descriptors of the generated gRPC services mapped on <paramref name="listener"/>.</summary>
    public static List<Google.Protobuf.Reflection.ServiceDescriptor> ServicesOf(IServiceProvider provider, string listener) =>
        [.. provider.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.Metadata.GetMetadata<ListenersMetadata>()?.Serves(listener) == true)
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.ServiceType)
            .OfType<Type>()
            .Distinct()
            .Select(Descriptor)
            .OfType<Google.Protobuf.Reflection.ServiceDescriptor>()];

    /// <summary>The descriptor of a generated service: a static <c>Descriptor</c> on the class that declares its base.</summary>
    private static Google.Protobuf.Reflection.ServiceDescriptor? Descriptor(Type serviceType)
    {
        for (var type = serviceType.BaseType; type is not null; type = type.BaseType)
        {
            if (type.DeclaringType?.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is Google.Protobuf.Reflection.ServiceDescriptor descriptor)
            {
                return descriptor;
            }
        }

        return null;
    }

    private sealed record ListenerFeature(string Name);

    private sealed class ListenersMetadata(string[] listeners)
    {
        public bool Serves(string listener) => listeners.Contains(listener, StringComparer.Ordinal);
    }

    private sealed class ListenerPolicy : MatcherPolicy, IEndpointSelectorPolicy
    {
        // After the runtime's own policies (HTTP method, content type): this one only removes.
        public override int Order => int.MaxValue - 100;

        public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

        public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
        {
            // Request features fall back to the connection's, where Named put the listener.
            var listener = ListenerOf(httpContext);
            for (var i = 0; i < candidates.Count; i++)
            {
                if (listener is null || candidates[i].Endpoint.Metadata.GetMetadata<ListenersMetadata>()?.Serves(listener) != true)
                {
                    candidates.SetValidity(i, false);
                }
            }

            return Task.CompletedTask;
        }
    }
}
