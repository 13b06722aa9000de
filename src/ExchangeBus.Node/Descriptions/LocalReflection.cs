// SPDX-License-Identifier: Apache-2.0
using System.Runtime.CompilerServices;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Hosting;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace ExchangeBus.Node.Descriptions;

/// <summary>
/// gRPC server reflection on the local listener (docs/design/agency-protocols.md, "Service
/// descriptions"): the node's own services, and, when the call names a client subsystem in
/// <c>x-road-client</c> (authenticated as any local call is), the provider gRPC services that
/// subsystem may call, from the descriptor sets their providers registered, fetched over the bus
/// (<see cref="ServiceDescriptions"/>). <c>x-road-service</c> narrows that to one bus service;
/// without it every provider subsystem in the global configuration is asked allowedMethods.
/// A service without a registered description is not listed. The answers are Grpc.Reflection's
/// own, over the list made for this call.
/// </summary>
public sealed partial class LocalReflection(
    IServiceProvider provider, ServiceDescriptions descriptions, GlobalConfigurationProvider configuration, ILogger<LocalReflection> logger)
{
    /// <summary>Provider subsystems asked at once while listing.</summary>
    private const int Parallelism = 8;

    // A description is built into file descriptors once per fetched copy (the cache's instance).
    private readonly ConditionalWeakTable<ServiceDescription, IReadOnlyList<FileDescriptor>> _built = [];
    private List<ServiceDescriptor>? _own;

    /// <summary>The services reflection answers about on this call.</summary>
    public async Task<IReadOnlyList<ServiceDescriptor>> ServicesAsync(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // The endpoints are fixed once the node serves calls.
        var services = new List<ServiceDescriptor>(_own ??= BusListeners.ServicesOf(provider, NodeListeners.Local));
        var client = context.RequestHeaders.GetValue(TransparentGrpc.ClientHeader);
        if (string.IsNullOrEmpty(client))
        {
            return services;
        }

        var caller = Gateway.LocalGateway.Caller(context);
        descriptions.Authenticate(client, caller, context.CorrelationId);
        var named = context.RequestHeaders.GetValue(TransparentGrpc.ServiceHeader);
        var candidates = string.IsNullOrEmpty(named) ? await AllowedAsync(client, caller, context).ConfigureAwait(false) : [named];
        foreach (var service in candidates)
        {
            if (await GrpcServiceAsync(client, service, caller, context).ConfigureAwait(false) is { } descriptor
                && !services.Exists(s => string.Equals(s.FullName, descriptor.FullName, StringComparison.Ordinal)))
            {
                services.Add(descriptor);
            }
        }

        return services;
    }

    /// <summary>Every service of every provider subsystem that <paramref name="client"/> may call, in a stable order.</summary>
    private async Task<IReadOnlyList<string>> AllowedAsync(string client, Exchange.ClientExchange.Caller caller, ServerCallContext context)
    {
        Core.GlobalConf.GlobalConfigurationView view;
        try
        {
            view = configuration.Current(NodeErrors.OutdatedGlobalConf);
        }
        catch (NodeException ex)
        {
            throw ex.ToRpc(context.CorrelationId);
        }

        var providers = view.Members.Where(m => view.NodesOf(m.Id).Count > 0).SelectMany(m => m.Subsystems).ToArray();
        var allowed = new List<string>[providers.Length];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, providers.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = context.CancellationToken },
            async (i, cancellationToken) =>
            {
                try
                {
                    allowed[i] = [.. await descriptions.AllowedAsync(client, providers[i], caller, context.ClientDeadline, context.CorrelationId, cancellationToken).ConfigureAwait(false)];
                }
                catch (RpcException ex)
                {
                    // One provider down or refusing leaves the others listed.
                    Log.ProviderSkipped(logger, providers[i].ToString(), ex.ErrorCode ?? ex.StatusCode.ToString(), context.CorrelationId);
                    allowed[i] = [];
                }
            }).ConfigureAwait(false);
        return [.. allowed.SelectMany(a => a).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>The gRPC service a bus service carries, from its registered descriptor set; null when it has none.</summary>
    private async Task<ServiceDescriptor?> GrpcServiceAsync(string client, string service, Exchange.ClientExchange.Caller caller, ServerCallContext context)
    {
        ServiceDescription description;
        try
        {
            description = await descriptions.GetAsync(client, service, caller, context.ClientDeadline, context.CorrelationId, context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            Log.ServiceSkipped(logger, service, ex.ErrorCode ?? ex.StatusCode.ToString(), context.CorrelationId);
            return null;
        }

        if (description.Kind != ServiceDescriptionKind.ProtobufDescriptorSet)
        {
            return null;
        }

        IReadOnlyList<FileDescriptor> files;
        try
        {
            files = _built.GetValue(description, d => DescriptorSets.Build(d.Content));
        }
        catch (FormatException)
        {
            Log.ServiceSkipped(logger, service, "InvalidDescriptorSet", context.CorrelationId);
            return null;
        }

        return files.SelectMany(f => f.Services).FirstOrDefault(s => string.Equals(s.FullName, description.GrpcService, StringComparison.Ordinal));
    }

    /// <summary>grpc.reflection.v1alpha (grpcurl's first choice, and older clients').</summary>
    public sealed class V1Alpha(LocalReflection reflection) : global::Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionBase
    {
        public override async Task ServerReflectionInfo(
            IAsyncStreamReader<global::Grpc.Reflection.V1Alpha.ServerReflectionRequest> requestStream,
            IServerStreamWriter<global::Grpc.Reflection.V1Alpha.ServerReflectionResponse> responseStream,
            ServerCallContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var services = await reflection.ServicesAsync(context).ConfigureAwait(false);
            await new ReflectionServiceImpl(services).ServerReflectionInfo(requestStream, responseStream, context).ConfigureAwait(false);
        }
    }

    /// <summary>grpc.reflection.v1.</summary>
    public sealed class V1(LocalReflection reflection) : global::Grpc.Reflection.V1.ServerReflection.ServerReflectionBase
    {
        public override async Task ServerReflectionInfo(
            IAsyncStreamReader<global::Grpc.Reflection.V1.ServerReflectionRequest> requestStream,
            IServerStreamWriter<global::Grpc.Reflection.V1.ServerReflectionResponse> responseStream,
            ServerCallContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var services = await reflection.ServicesAsync(context).ConfigureAwait(false);
            await new ReflectionV1ServiceImpl(services).ServerReflectionInfo(requestStream, responseStream, context).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4900, LogLevel.Information, "Reflection: provider {Provider} not listed ({Code}) (correlation id {CorrelationId})")]
        public static partial void ProviderSkipped(ILogger logger, string provider, string code, string correlationId);

        [LoggerMessage(4901, LogLevel.Debug, "Reflection: service {Service} not listed ({Code}) (correlation id {CorrelationId})")]
        public static partial void ServiceSkipped(ILogger logger, string service, string code, string correlationId);
    }
}
