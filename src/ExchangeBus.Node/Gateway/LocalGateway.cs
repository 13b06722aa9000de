// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Descriptions;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.GlobalConf;

namespace ExchangeBus.Node.Gateway;

/// <summary>
/// What the agency's own systems call. On the TLS port the caller is the system whose
/// registered certificate it presents; on the loopback development port it is whoever it says.
/// The metaservices listMethods, allowedMethods and getServiceDescription are answered by the
/// provider's node itself, through the same signed and logged exchange as any call.
/// </summary>
public sealed class LocalGateway(GlobalConfigurationProvider configuration, ClientExchange exchange, ServiceDescriptions descriptions) : Contracts.Node.V1.LocalGateway.LocalGatewayBase
{
    public override Task<CallResponse> Call(CallRequest request, ServerCallContext context) =>
        exchange.CallAsync(request, Caller(context), context.ClientDeadline, context.CorrelationId, context.CancellationToken);

    public override Task<ListMethodsResponse> ListMethods(ListMethodsRequest request, ServerCallContext context) =>
        MetaserviceAsync(request.Provider, request.Client, ProviderExchange.ListMethodsService, context);

    public override async Task<AllowedMethodsResponse> AllowedMethods(AllowedMethodsRequest request, ServerCallContext context) => new()
    {
        Services = { (await MetaserviceAsync(request.Provider, request.Client, ProviderExchange.AllowedMethodsService, context).ConfigureAwait(false)).Services },
    };

    public override Task<ServiceDescription> GetServiceDescription(GetServiceDescriptionRequest request, ServerCallContext context) =>
        descriptions.GetAsync(request.Client, request.Service, Caller(context), context.ClientDeadline, context.CorrelationId, context.CancellationToken);

    public override Task<ListClientsResponse> ListClients(ListClientsRequest request, ServerCallContext context)
    {
        GlobalConfigurationViewGuard(context, out var view);
        var response = new ListClientsResponse();
        foreach (var member in view.Members.OrderBy(m => m.Id.ToString(), StringComparer.Ordinal))
        {
            response.Clients.Add(new ClientEntry { Id = member.Id.ToString(), Name = member.Name });
            foreach (var subsystem in member.Subsystems)
            {
                response.Clients.Add(new ClientEntry { Id = subsystem.ToString(), Name = member.Name });
            }
        }

        return Task.FromResult(response);
    }

    private async Task<ListMethodsResponse> MetaserviceAsync(string provider, string client, string code, ServerCallContext context)
    {
        var reply = await exchange.CallAsync(
            new CallRequest { Service = $"{provider}/{code}", Client = client },
            Caller(context), context.ClientDeadline, context.CorrelationId, context.CancellationToken).ConfigureAwait(false);
        return ListMethodsResponse.Parser.ParseFrom(reply.Payload);
    }

    private void GlobalConfigurationViewGuard(ServerCallContext context, out Core.GlobalConf.GlobalConfigurationView view)
    {
        try
        {
            view = configuration.Current(NodeErrors.OutdatedGlobalConf);
        }
        catch (NodeException ex)
        {
            throw ex.ToRpc(context.CorrelationId);
        }
    }

    /// <summary>Who the local listener says is calling (shared with the file service).</summary>
    internal static ClientExchange.Caller Caller(ServerCallContext context) => Caller(context.GetHttpContext());

    /// <summary>Who is calling, from the request itself (the REST endpoint, which is not a gRPC service).</summary>
    internal static ClientExchange.Caller Caller(HttpContext httpContext) => new(LocalTlsGate.ClientFingerprint(httpContext));
}
