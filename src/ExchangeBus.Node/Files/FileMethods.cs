// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Grpc;

namespace ExchangeBus.Node.Files;

/// <summary>File sync's gRPC methods, built from files.proto's service descriptors.</summary>
public static class FileMethods
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Local = FilesReflection.Descriptor.Services[0];
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Peer = FilesReflection.Descriptor.Services[1];

    public static readonly Method<SendRequest, SendResponse> Send = ProtoMethods.Create<SendRequest, SendResponse>(Local, "Send");

    public static readonly Method<StatusRequest, StatusResponse> Status = ProtoMethods.Create<StatusRequest, StatusResponse>(Local, "Status");

    public static readonly Method<ReceiveRequest, ReceiveResponse> Receive = ProtoMethods.Create<ReceiveRequest, ReceiveResponse>(Local, "Receive");

    public static readonly Method<AcknowledgeRequest, AcknowledgeResponse> Acknowledge = ProtoMethods.Create<AcknowledgeRequest, AcknowledgeResponse>(Local, "Acknowledge");

    public static readonly Method<ListRequest, ListResponse> List = ProtoMethods.Create<ListRequest, ListResponse>(Local, "List");

    public static readonly Method<OfferRequest, OfferResponse> Offer = ProtoMethods.Create<OfferRequest, OfferResponse>(Peer, "Offer");

    public static readonly Method<PushRequest, SignedEnvelope> Push = ProtoMethods.Create<PushRequest, SignedEnvelope>(Peer, "Push");
}
