// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.Exchange;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// The rule both nodes check every streamed message against as it arrives: the next position,
/// naming the hash of the link before. A gap, a repeat, a wrong previous hash or a message that
/// is not streamed is not the next link (the client node then fails the call InvalidResponse).
/// </summary>
public sealed class StreamChainTests
{
    private static readonly byte[] LinkZero = [1, 2, 3];

    private static (StreamChain Receiver, MessageHeader Next) AfterOneLink()
    {
        var sender = new StreamChain();
        var receiver = new StreamChain();
        var first = new MessageHeader();
        sender.Stamp(first);
        Assert.That(receiver.Follows(first), Is.True);
        sender.Advance(LinkZero);
        receiver.Advance(LinkZero);
        var next = new MessageHeader();
        sender.Stamp(next);
        return (receiver, next);
    }

    [Test]
    public void NextLink_Follows()
    {
        var (receiver, next) = AfterOneLink();

        Assert.That(next.StreamPosition, Is.EqualTo(1));
        Assert.That(next.PreviousHash.ToByteArray(), Is.EqualTo(SHA256.HashData(LinkZero)));
        Assert.That(receiver.Follows(next), Is.True);
    }

    [Test]
    public void Gap_DoesNotFollow()
    {
        var (receiver, next) = AfterOneLink();
        next.StreamPosition = 2;

        Assert.That(receiver.Follows(next), Is.False);
    }

    [Test]
    public void Repeat_DoesNotFollow()
    {
        var (receiver, next) = AfterOneLink();
        next.StreamPosition = 0;

        Assert.That(receiver.Follows(next), Is.False);
    }

    [Test]
    public void WrongPreviousHash_DoesNotFollow()
    {
        var (receiver, next) = AfterOneLink();
        next.PreviousHash = ByteString.CopyFrom(SHA256.HashData([9]));

        Assert.That(receiver.Follows(next), Is.False);
    }

    [Test]
    public void NotStreamed_DoesNotFollow()
    {
        var (receiver, next) = AfterOneLink();
        next.Streamed = false;

        Assert.That(receiver.Follows(next), Is.False);
    }
}
