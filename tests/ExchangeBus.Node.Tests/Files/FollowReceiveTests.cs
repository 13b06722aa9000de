// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using ExchangeBus.Node.Tests.Exchange;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// <c>Receive</c> with <c>follow</c>: the recipient's system keeps one stream open and gets each
/// file as it arrives, and the stream ends cleanly when the node stops.
/// </summary>
[NonParallelizable]
public sealed class FollowReceiveTests
{
    [Test]
    public async Task FollowingStream_GetsWaitingThenNewFiles_InArrivalOrder_AndEndsCleanlyWhenTheNodeStops()
    {
        var bus = await BusFixture.StartAsync();
        try
        {
            using var sender = bus.LocalChannel();
            using var recipient = bus.ProviderLocalChannel();
            var contents = Enumerable.Range(0, 3).Select(i => RandomContent(50_000 + i)).ToList();
            await SendAsync(sender, Metadata("follow-0", contents[0]), contents[0]);
            Assert.That((await SettledAsync(sender, "follow-0")).State, Is.EqualTo(DeliveryState.Delivered));

            // A hang guard only: the test waits for behaviour, never measures it.
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            using var call = new FilesClient(recipient).Receive(new ReceiveRequest { Recipient = BusFixture.ProviderSubsystem, IncludeContent = true, Follow = true }, new CallOptions(cancellationToken: guard.Token));
            var stream = call.ResponseStream;
            Assert.That(await NextFileAsync(stream, guard.Token), Is.EqualTo(("follow-0", SHA256.HashData(contents[0]))), "the file already waiting comes first");

            // Acknowledged on another call meanwhile: it is not sent again on this stream.
            await new FilesClient(recipient).AcknowledgeAsync(new AcknowledgeRequest { Recipient = BusFixture.ProviderSubsystem, Sender = BusFixture.ClientSubsystem, FileId = "follow-0" }).ResponseAsync;
            for (var i = 1; i < 3; i++)
            {
                await SendAsync(sender, Metadata($"follow-{i}", contents[i]), contents[i]);
                Assert.That(await NextFileAsync(stream, guard.Token), Is.EqualTo(($"follow-{i}", SHA256.HashData(contents[i]))), "each new file arrives on the open stream");
            }

            await bus.DisposeAsync();
            bus = null;
            Assert.That(await stream.MoveNext(guard.Token), Is.False, "a stopping node ends the stream cleanly");
        }
        finally
        {
            if (bus is not null)
            {
                await bus.DisposeAsync();
            }
        }
    }

    /// <summary>Reads one file's description and content from the stream: its id and its content's SHA-256.</summary>
    private static async Task<(string Id, byte[] Sha256)> NextFileAsync(IAsyncStreamReader<ReceiveResponse> stream, CancellationToken cancellationToken)
    {
        Assert.That(await stream.MoveNext(cancellationToken), Is.True);
        Assert.That(stream.Current.PartCase, Is.EqualTo(ReceiveResponse.PartOneofCase.File));
        var file = stream.Current.File;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var length = 0L;
        while (length < (long)file.Metadata.Size)
        {
            Assert.That(await stream.MoveNext(cancellationToken), Is.True);
            hash.AppendData(stream.Current.Chunk.Span);
            length += stream.Current.Chunk.Length;
        }

        return (file.Metadata.FileId, hash.GetHashAndReset());
    }
}
