// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Descriptions;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.Rest;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

public static class NodeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a node's endpoints, each on its own listener (<see cref="NodeListeners"/>), so that a
    /// peer with a valid certificate can never act as this node's client: exchange, file
    /// transfer and audit on the peer listener; the gateway, files, reflection, transparent gRPC
    /// and X-Road REST (<c>/r1</c>) on the local ones; gRPC health on both; <c>/metrics</c> and <c>/health/*</c> on the metrics listener.
    /// A method called on a listener that does not serve it answers UNIMPLEMENTED.
    /// </summary>
    public static WebApplication MapExchangeBusNode(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.UseMiddleware<LocalTlsGate>();

        // After routing (which the host puts first), so that the audit API's policy applies to its endpoints only.
        app.UseRateLimiter();

        // No reflection for peers: a peer node has nothing to discover, and a stranger is refused at
        // TLS. The local listener's reflection is the node's own: it lists, per calling subsystem,
        // the provider services it may call too (Descriptions/LocalReflection.cs).
        app.MapBusGrpc(healthOn: [NodeListeners.Peer, NodeListeners.Local], reflectionOn: null);
        app.MapGrpcService<LocalReflection.V1Alpha>().OnListeners(NodeListeners.Local);
        app.MapGrpcService<LocalReflection.V1>().OnListeners(NodeListeners.Local);
        app.MapGrpcService<ProviderExchange>().OnListeners(NodeListeners.Peer);
        app.MapGrpcService<NodeAuditService>().OnListeners(NodeListeners.Peer).RequireRateLimiting(AuditCallerRateLimit.PolicyName);
        app.MapGrpcService<FileReceiver>().OnListeners(NodeListeners.Peer);
        app.MapGrpcService<LocalGateway>().OnListeners(NodeListeners.Local);
        app.MapGrpcService<LocalFiles>().OnListeners(NodeListeners.Local);

        // Any other method on the local listeners is an agency system's typed call to a provider.
        var transparent = app.Services.GetRequiredService<TransparentGrpc>();
        app.Services.GetRequiredService<BytesGrpcMethods>().AddDuplexStreaming(TransparentGrpc.AnyMethod, transparent.HandleAsync);
        app.MapGrpcService<BytesGrpcService>().OnListeners(NodeListeners.Local);

        // X-Road's REST protocol (r1) for agency systems that speak REST, every method.
        app.Map(RestGateway.Route, app.Services.GetRequiredService<RestGateway>().HandleAsync).OnListeners(NodeListeners.Local);
        MapMetrics(app);
        if (app.Services.GetRequiredService<IOptions<NodeServerOptions>>().Value.Console.Enabled)
        {
            app.MapWebConsole(NodeListeners.Console);
        }

        return app;
    }

    private static void MapMetrics(WebApplication app)
    {
        app.MapNodeMetrics().OnListeners(NodeListeners.Metrics);
        app.MapGet("/health/live", () => Results.Text("live")).OnListeners(NodeListeners.Metrics);
        app.MapGet("/health/ready", (ConfigurationInDate ready) => ready.IsReady
            ? Results.Text("ready")
            : Results.Text(ConfigurationInDate.NotReady, statusCode: StatusCodes.Status503ServiceUnavailable)).OnListeners(NodeListeners.Metrics);
    }
}
