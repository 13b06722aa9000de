// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// The header of a message that answers another: a provider's response (and each link of a
/// response stream, <c>ProviderExchange</c>) and a file receipt (<c>FileSigner.Receipt</c>). It
/// repeats the request's identity, names the answering node, and binds the request by the
/// SHA-256 of its to-be-signed value.
/// </summary>
internal static class AnswerHeader
{
    /// <summary>
    /// The answer of kind <paramref name="kind"/> to <paramref name="request"/>, sent by
    /// <paramref name="senderNode"/> at <paramref name="createdAt"/>, with the hash of
    /// <paramref name="requestToBeSigned"/>; the request's user id is repeated only
    /// <paramref name="withUserId"/> (a response does, a file receipt does not: see its call).
    /// </summary>
    public static MessageHeader For(
        MessageHeader request, byte[] requestToBeSigned, MessageKind kind, string senderNode, DateTimeOffset createdAt, bool withUserId) => new()
    {
        Kind = kind,
        MessageId = request.MessageId,
        Client = request.Client,
        Service = request.Service,
        UserId = withUserId ? request.UserId : string.Empty,
        SubjectId = request.SubjectId,
        Issue = request.Issue,
        CreatedAt = Timestamp.FromDateTimeOffset(createdAt),
        SenderNode = senderNode,
        RequestHash = ByteString.CopyFrom(SHA256.HashData(requestToBeSigned)),
    };
}
