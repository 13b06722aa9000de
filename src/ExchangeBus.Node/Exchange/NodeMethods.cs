// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;

namespace ExchangeBus.Node.Exchange;

/// <summary>The node's gRPC methods, built from the protos' own service descriptors.</summary>
public static class NodeMethods
{
    public static readonly Method<SignedEnvelope, SignedEnvelope> Deliver =
        ProtoMethods.Create<SignedEnvelope, SignedEnvelope>(ExchangeReflection.Descriptor.Services[0], "Deliver");

    public static readonly Method<CallRequest, CallResponse> Call =
        ProtoMethods.Create<CallRequest, CallResponse>(NodeReflection.Descriptor.Services[0], "Call");

    public static readonly Method<ListClientsRequest, ListClientsResponse> ListClients =
        ProtoMethods.Create<ListClientsRequest, ListClientsResponse>(NodeReflection.Descriptor.Services[0], "ListClients");

    public static readonly Method<ListMethodsRequest, ListMethodsResponse> ListMethods =
        ProtoMethods.Create<ListMethodsRequest, ListMethodsResponse>(NodeReflection.Descriptor.Services[0], "ListMethods");

    public static readonly Method<AllowedMethodsRequest, AllowedMethodsResponse> AllowedMethods =
        ProtoMethods.Create<AllowedMethodsRequest, AllowedMethodsResponse>(NodeReflection.Descriptor.Services[0], "AllowedMethods");
}
