// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using ExchangeBus.Audit;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Audit;
using ExchangeBus.Registry.Tests.TrustServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// Issue 19's batch signatures end to end: a burst of calls, gathered by holding each node's
/// signing loop until the whole burst waits (so the batch has a size the test can count on,
/// whatever the machine's speed), is signed with one ECDSA signature per node and direction;
/// the other node accepts every envelope, and `xbus audit verify`'s verifier, the bundle
/// verifier and the bundle's check.sh (openssl and python3) accept the logged signatures.
/// </summary>
[NonParallelizable]
public sealed class BatchSignatureExchangeTests
{
    private const int Calls = 24;

    [Test]
    public async Task ABurstOfCalls_IsSignedInBatches_ThatTheOtherNodeTheLogVerifierAndABundleAccept()
    {
        await using var bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        var requestSigning = bus.ClientNode.Services.GetRequiredService<EnvelopeSigningQueue>();
        var responseSigning = bus.ProviderNode.Services.GetRequiredService<EnvelopeSigningQueue>();
        using var local = bus.LocalChannel();

        var requests = requestSigning.Hold();
        var responses = responseSigning.Hold();
        var calls = Enumerable.Range(0, Calls).Select(i => Call(local, $"call-{i}")).ToList();
        await UntilAsync(() => requestSigning.WaitingCount == Calls);
        requests.SetResult();
        await UntilAsync(() => responseSigning.WaitingCount == Calls);
        responses.SetResult();
        var answered = await Task.WhenAll(calls);

        Assert.That(answered.Select(r => r.Payload.ToStringUtf8()), Is.EquivalentTo(Enumerable.Range(0, Calls).Select(i => $"echo:call-{i}:{BusFixture.ClientSubsystem}")));
        var clientRecords = answered.SelectMany<CallResponse, MessageLogEntry>(a => bus.ClientNode.Log.FindByMessageId(a.MessageId)).Select(e => e.Record).ToList();
        var providerRecords = answered.SelectMany<CallResponse, MessageLogEntry>(a => bus.ProviderNode.Log.FindByMessageId(a.MessageId)).Select(e => e.Record).ToList();
        using (Assert.EnterMultipleScope())
        {
            // Each side's batch: one tree of the whole burst, one root signature, as sent and as received.
            AssertOneBatch(clientRecords.Where(r => r.Direction == MessageDirection.ClientRequest));
            AssertOneBatch(providerRecords.Where(r => r.Direction == MessageDirection.ProviderRequest));
            AssertOneBatch(providerRecords.Where(r => r.Direction == MessageDirection.ProviderResponse));
            AssertOneBatch(clientRecords.Where(r => r.Direction == MessageDirection.ClientResponse));
        }

        // A lone call afterwards is signed at once, in the single form.
        var lone = await Call(local, "alone");
        Assert.That(bus.ClientNode.Log.FindByMessageId(lone.MessageId).Single(e => e.Record.Direction == MessageDirection.ClientRequest).Record.Signature[0], Is.EqualTo(0x30));

        // `xbus audit verify`: every signature checked, both forms.
        await bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
        foreach (var node in new[] { bus.ClientNode, bus.ProviderNode })
        {
            using var trust = LogVerifierTrust.Load(Path.GetDirectoryName(node.Log.Path)!, anchorPath: null);
            using var log = MessageLogReader.Open(node.Log.Path);
            var report = new LogVerifier(log, trust, new LogVerifierOptions()).Verify();
            Assert.That(report.IsValid, Is.True, report.Detail);
            Assert.That(report.SignaturesChecked, Is.EqualTo(2 * (Calls + 1)));
        }

        // An evidence bundle of a batch-signed exchange: the verifier, and check.sh with openssl and python3.
        using var auditor = await bus.IssueAuditorAsync(BusFixture.Provider, "Nguyễn Văn An");
        var bundle = await BundleTestFiles.ExportAsync(bus, bus.ProviderNode, auditor, answered[Calls / 2].MessageId);
        var verified = new EvidenceBundleVerifier([bus.Registry.Keys.RootCertificate], TimeProvider.System).Verify(new MemoryStream(bundle));
        Assert.That(verified.Problems, Is.Empty);

        var work = Directory.CreateTempSubdirectory("xbus-batch-bundle-").FullName;
        try
        {
            ZipFile.ExtractToDirectory(new MemoryStream(bundle), Path.Combine(work, "bundle"));
            await File.WriteAllTextAsync(Path.Combine(work, "anchor-root.pem"), bus.Registry.Keys.RootCertificate.ExportCertificatePem());
            var check = await OpenSsl.ShellAsync(work, "sh bundle/check.sh anchor-root.pem");
            Assert.That(check.ExitCode, Is.Zero, check.All);
            Assert.That(check.Output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal) && l.Contains("(batch form) leads from tbs.bin to a root signed", StringComparison.Ordinal)), Is.EqualTo(2), check.All);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertOneBatch(IEnumerable<MessageLogRecord> records)
    {
        var signatures = records.Select(r => r.Signature).ToList();
        Assert.That(signatures, Has.Count.EqualTo(Calls));
        Assert.That(signatures.Select(s => BatchSignature.TryDecode(s, out var parts).IsValid ? parts.TreeSize : -1), Is.All.EqualTo(Calls));
        Assert.That(signatures.Select(s => BatchSignature.TryDecode(s, out var parts).IsValid ? parts.LeafIndex : -1), Is.EquivalentTo(Enumerable.Range(0, Calls)));
        Assert.That(signatures.Select(s => Convert.ToHexString(s.AsSpan(42 + (32 * s[9])))).Distinct().Count(), Is.EqualTo(1), "one root signature");
    }

    /// <summary>Waits for the burst to queue up; a bound only so that a broken loop fails instead of hanging.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        var giveUp = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(giveUp), "the burst never queued up");
            await Task.Delay(10);
        }
    }

    private static Task<CallResponse> Call(GrpcChannel local, string payload) =>
        new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            UserId = "official-7",
            Payload = ByteString.CopyFromUtf8(payload),
        }, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(2))).ResponseAsync;
}
