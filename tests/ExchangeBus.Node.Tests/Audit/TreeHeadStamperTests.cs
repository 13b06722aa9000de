// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.Tests.TrustServices;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// The message log's evidence on a real bus: heads signed by the member key, time-stamped by the
/// registry's real TSA (checked with openssl), published to the registry with real consistency
/// proofs; exchanges refused once time-stamping has failed too long, and back-filled after.
/// The interval is an hour so that the node's own loop stays out of the way: rounds are run here.
/// </summary>
[NonParallelizable]
public sealed class TreeHeadStamperTests
{
    private static readonly ConfigurationParameters Hourly = new() { TimeStampingIntervalSeconds = 3600 };

    [Test]
    public async Task Round_SignsAndTimeStampsAHeadOverEveryRecord_OpensslAgrees_AndTheRegistryHoldsIt()
    {
        await using var bus = await BusFixture.StartAsync(parameters: Hourly);
        using var local = bus.LocalChannel();
        for (var i = 0; i < 3; i++)
        {
            await Call(local);
        }

        var node = bus.ClientNode;
        var round = await node.Stamper.StampAsync(CancellationToken.None);

        Assert.That(round, Is.EqualTo(new StampRound(1, null)));
        var head = node.Log.Reader.LatestTreeHead()!;
        Assert.That(head.TreeSize, Is.EqualTo(node.Log.LastSequence()).And.EqualTo(6));
        Assert.That(node.Stamper.StampedSize, Is.EqualTo(6));
        var parsed = TreeHead.Parser.ParseFrom(head.TreeHead);
        Assert.That(parsed.Node, Is.EqualTo(node.Node.ToString()));
        Assert.That(parsed.RootHash.ToByteArray(), Is.EqualTo(node.Log.Reader.TreeRoot(6)).And.EqualTo(head.RootHash));
        Assert.That(head.SubmittedAt, Is.Not.Null, "the registry acknowledged it");
        Assert.That(bus.Registry.Store.ReadTreeHeads(node.Node, 0, 100).Select(h => TreeHead.Parser.ParseFrom(h.TreeHead).TreeSize), Is.EqualTo(new[] { 6UL }));

        // An auditor's own tools: the signature with the signer certificate, the token with the bus root.
        var work = Directory.CreateTempSubdirectory("xbus-head-").FullName;
        try
        {
            using var signer = X509CertificateLoader.LoadCertificate(head.SignerCertificate);
            await File.WriteAllBytesAsync(Path.Combine(work, "head.bin"), head.TreeHead);
            await File.WriteAllBytesAsync(Path.Combine(work, "head.sig"), head.Signature);
            await File.WriteAllBytesAsync(Path.Combine(work, "head.tst"), head.TimeStampToken);
            await File.WriteAllTextAsync(Path.Combine(work, "signer.pub.pem"), signer.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfoPem());
            await File.WriteAllTextAsync(Path.Combine(work, "root.pem"), bus.Registry.Keys.RootCertificate.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(work, "tsa.pem"), bus.Registry.Keys.TimeStamping.ExportCertificatePem());
            var signature = await OpenSsl.RunOkAsync(work, "dgst", "-sha256", "-verify", "signer.pub.pem", "-signature", "head.sig", "head.bin");
            Assert.That(signature.Output, Does.Contain("Verified OK"));
            var token = await OpenSsl.RunOkAsync(work, "ts", "-verify", "-data", "head.bin", "-in", "head.tst", "-token_in", "-CAfile", "root.pem", "-untrusted", "tsa.pem");
            Assert.That(token.Output, Does.Contain("Verification: OK"));

            head.TreeHead[^1] ^= 1;
            await File.WriteAllBytesAsync(Path.Combine(work, "head.bin"), head.TreeHead);
            Assert.That((await OpenSsl.RunAsync(work, "ts", "-verify", "-data", "head.bin", "-in", "head.tst", "-token_in", "-CAfile", "root.pem", "-untrusted", "tsa.pem")).ExitCode, Is.Not.Zero);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public async Task LaterRounds_ExtendTheLog_InBatchesOfAtMostTheConfiguredSize_AndTheRegistryAcceptsTheirConsistencyProofs()
    {
        await using var bus = await BusFixture.StartAsync(parameters: Hourly with { TimeStampingMaxBatch = 3 });
        using var local = bus.LocalChannel();
        var node = bus.ClientNode;
        await Call(local);
        Assert.That(await node.Stamper.StampAsync(CancellationToken.None), Is.EqualTo(new StampRound(1, null)));
        for (var i = 0; i < 4; i++)
        {
            await Call(local);
        }

        var round = await node.Stamper.StampAsync(CancellationToken.None);

        Assert.That(round, Is.EqualTo(new StampRound(3, null)), "8 new records in heads of at most 3: 5, 8, 10");
        var sizes = node.Log.Reader.TreeHeads(0, long.MaxValue, 100).Select(h => h.TreeSize);
        Assert.That(sizes, Is.EqualTo(new long[] { 2, 5, 8, 10 }));
        Assert.That(bus.Registry.Store.ReadTreeHeads(node.Node, 0, 100), Has.Count.EqualTo(4));
        Assert.That(bus.Registry.Store.CountTreeHeadConflicts(node.Node), Is.Empty);
        var first = node.Log.Reader.TreeHeads(2, 2, 1).Single();
        Assert.That(MerkleVerifier.VerifyConsistency(2, 10, first.RootHash, node.Log.Reader.TreeRoot(10), node.Log.Reader.ConsistencyProof(2, 10)).IsValid, Is.True);
    }

    [Test]
    public async Task TimeStampingDownLongerThanAllowed_RefusesExchanges_ThenBackFillsAndResumes()
    {
        // The nodes' own loops run every second here; the period allowed without a time-stamp is 2 s.
        await using var bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 1, AcceptableTimeStampFailureSeconds = 2 });
        using var local = bus.LocalChannel();
        var client = bus.ClientNode;
        var provider = bus.ProviderNode;
        await Call(local);
        var registryData = Path.Combine(bus.Root, "registry");
        var grpc = new Uri(bus.Registry.GrpcAddress);
        var http = new Uri(bus.Registry.HttpAddress);
        await bus.Registry.DisposeAsync(); // the TSA with it
        await Call(local); // answered: nothing has waited long yet, and exchanges never wait for the TSA

        var failed = await client.Stamper.StampAsync(CancellationToken.None);
        Assert.That(failed.Failure, Is.Not.Null);
        var firstWaiting = client.Stamper.StampedSize + 1;
        await MessageLog.SqliteMessageLogTests.WaitUntil(() => DateTimeOffset.UtcNow - client.Log.Reader.RecordTime(firstWaiting)!.Value > TimeSpan.FromSeconds(2.5));
        var backendCalls = bus.BackendCalls;
        var logged = client.Log.LastSequence();

        var refused = await Assert.ThrowsAsync<RpcException>(() => Call(local));

        Assert.That(refused!.ErrorCode, Is.EqualTo(NodeErrors.TimestampingFailed));
        Assert.That(refused.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(bus.BackendCalls, Is.EqualTo(backendCalls));
        Assert.That(client.Log.LastSequence(), Is.EqualTo(logged), "a refused call adds nothing to a log that cannot get evidence");

        await using var again = await RegistryServer.StartAsync(new RegistryServerOptions
        {
            DataDirectory = registryData,
            GrpcListen = $"{grpc.Host}:{grpc.Port}",
            HttpListen = $"{http.Host}:{http.Port}",
        });
        // Back-fill (the loops may get there first; either way every record is covered).
        Assert.That((await client.Stamper.StampAsync(CancellationToken.None)).Failure, Is.Null);
        Assert.That((await provider.Stamper.StampAsync(CancellationToken.None)).Failure, Is.Null);
        Assert.That(client.Stamper.StampedSize, Is.EqualTo(client.Log.LastSequence()));
        Assert.That(provider.Stamper.StampedSize, Is.EqualTo(provider.Log.LastSequence()));

        var answered = await Call(local);
        Assert.That(answered.Payload.ToStringUtf8(), Does.StartWith("echo:"));
        Assert.That(again.Store.ReadTreeHeads(client.Node, 0, 10).Select(h => (long)TreeHead.Parser.ParseFrom(h.TreeHead).TreeSize), Does.Contain(logged));
    }

    internal static Task<CallResponse> Call(GrpcChannel local) =>
        new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            SubjectId = "citizen-001",
            Payload = ByteString.CopyFromUtf8("hello"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
}
