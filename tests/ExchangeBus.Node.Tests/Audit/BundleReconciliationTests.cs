// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// Reconciling without a key (the node console's Audit/Reconcile): the provider's node exports a
/// window's evidence bundle of its exchanges with the client's node, and the client's node checks
/// it (as verify-bundle does) and compares it with its own log (as xbus audit reconcile does).
/// </summary>
[NonParallelizable]
public sealed class BundleReconciliationTests
{
    private BusFixture _bus = null!;
    private List<CallResponse> _calls = null!;
    private BundleWindow _window = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        _window = new BundleWindow(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), _bus.ClientNode.Node.ToString());
        using var local = _bus.LocalChannel();
        _calls = [];
        for (var i = 0; i < 3; i++)
        {
            _calls.Add(await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
            {
                Service = BusFixture.Service,
                Client = BusFixture.ClientSubsystem,
                SubjectId = "citizen-04" + i,
                Payload = ByteString.CopyFromUtf8($"question {i}"),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync);
        }

        await _bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
    }

    [OneTimeTearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public void WindowBundle_Verifies_WithoutBodies_AndStatesItsWindow()
    {
        var bundle = Export();
        var result = new EvidenceBundleVerifier([_bus.Registry.Keys.RootCertificate], TimeProvider.System).Verify(new MemoryStream(bundle));

        Assert.That(result.Problems, Is.Empty);
        Assert.That(result.MessageId, Is.Null);
        Assert.That(result.Window, Is.EqualTo(_window));
        Assert.That(result.Summaries.Select(s => s.MessageId).Distinct(), Is.EquivalentTo(_calls.Select(c => c.MessageId)));
        Assert.That(BundleTestFiles.Unzip(bundle).Keys.Where(k => k.EndsWith("/" + EvidenceBundle.BodyFile, StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void MatchingBundle_GivesAConsistentReport()
    {
        var result = Reconcile(Export());

        Assert.That(result.Report.Differences, Is.Empty);
        Assert.That((result.Report.Exchanges, result.Report.Matched, result.Report.Unanswered), Is.EqualTo((3, 3, 0)));
        Assert.That((result.ThisNode, result.OtherNode), Is.EqualTo((_bus.ClientNode.Node.ToString(), _bus.ProviderNode.Node.ToString())));
        Assert.That(result.BundleRecords, Is.EqualTo(6));
    }

    [Test]
    public void OneByteChanged_IsRefused_WithTheVerifiersCode()
    {
        var files = BundleTestFiles.Unzip(Export());
        var header = files.Keys.First(k => k.EndsWith("/" + EvidenceBundle.HeaderFile, StringComparison.Ordinal));
        files[header][^1] ^= 0x01;
        BundleTestFiles.RewriteManifest(files);

        var refused = Assert.Throws<ReconcileRefusedException>(() => Reconcile(BundleTestFiles.Zip(files)));
        Assert.That(refused!.Code, Is.EqualTo(EvidenceBundleErrors.RecordHashMismatch));

        var untouchedManifest = BundleTestFiles.Unzip(Export());
        untouchedManifest[header][^1] ^= 0x01;
        Assert.That(Assert.Throws<ReconcileRefusedException>(() => Reconcile(BundleTestFiles.Zip(untouchedManifest)))!.Code, Is.EqualTo(EvidenceBundleErrors.ManifestMismatch));
    }

    [Test]
    public void BundleWithoutAMessage_ShowsItMissingOnTheOtherNode_WithTheEvidenceHere()
    {
        var missing = _calls[1].MessageId;
        var result = Reconcile(Export(except: missing));

        var difference = result.Report.Differences.Single();
        Assert.That((difference.MessageId, difference.Code, difference.Node), Is.EqualTo((missing, ReconcileFindings.MissingOnOtherNode, _bus.ClientNode.Node.ToString())));
        Assert.That((result.Report.Exchanges, result.Report.Matched), Is.EqualTo((3, 2)));
    }

    [Test]
    public void BundleOfOneMessage_IsNotAWindow()
    {
        var reader = _bus.ProviderNode.Log.Reader;
        var records = LogWindow.Read(reader, _window, 100).Where(r => r.MessageId == _calls[0].MessageId);
        var bundle = EvidenceBundle.Build(LogWindow.Evidence(reader, records), [_bus.Registry.Keys.RootCertificate]);

        Assert.That(Assert.Throws<ReconcileRefusedException>(() => Reconcile(bundle))!.Code, Is.EqualTo(ReconcileErrors.NotAWindow));
    }

    [Test]
    public void WindowLargerThanTheLimit_IsRefused()
    {
        var refused = Assert.Throws<ReconcileRefusedException>(() => LogWindow.Read(_bus.ProviderNode.Log.Reader, _window, maxRecords: 5));
        Assert.That(refused!.Code, Is.EqualTo(ReconcileErrors.WindowTooLarge));
    }

    [Test]
    public async Task XbusAuditExport_FromTo_WritesTheWindowsBundle_ThatReconciles_AndRefusesABadPeer()
    {
        var work = Directory.CreateTempSubdirectory("xbus-window-").FullName;
        try
        {
            var (auditor, root) = await BundleTestFiles.AuditorFolderAsync(_bus, work);
            string[] node = ["--node", "https://" + _bus.ProviderNode.PeerAddress, "--auditor", auditor, "--trust-root", root];
            string[] window = ["--from", _window.From.ToString("O"), "--to", _window.To.ToString("O")];
            var bundle = Path.Combine(work, "window.zip");

            var export = await XbusProcess.RunAsync(["audit", "export", .. window, "--peer", _window.Peer!, "--out", bundle, .. node]);
            var badPeer = await XbusProcess.RunAsync(["audit", "export", .. window, "--peer", "not-a-node", "--out", Path.Combine(work, "bad.zip"), .. node]);
            var halfWindow = await XbusProcess.RunAsync(["audit", "export", "--from", _window.From.ToString("O"), "--out", Path.Combine(work, "half.zip"), .. node]);

            Assert.That(export.Exit, Is.Zero, export.ToString());
            Assert.That(export.Output, Does.Contain("verified: every check passed"));
            var result = Reconcile(await File.ReadAllBytesAsync(bundle));
            Assert.That(result.Report.Differences, Is.Empty);
            Assert.That((result.Report.Exchanges, result.Report.Matched, result.BundleRecords), Is.EqualTo((3, 3, 6)));
            Assert.That(badPeer.Exit, Is.EqualTo(2), badPeer.ToString());
            Assert.That(badPeer.Error, Does.StartWith($"error {ReconcileErrors.InvalidPeer}: "));
            Assert.That(halfWindow.Exit, Is.EqualTo(2), halfWindow.ToString());
            Assert.That(halfWindow.Error, Does.StartWith("error Cli.InvalidArguments: "));
            Assert.That(File.Exists(Path.Combine(work, "bad.zip")) || File.Exists(Path.Combine(work, "half.zip")), Is.False, "a refused export writes nothing");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private byte[] Export(string? except = null)
    {
        var reader = _bus.ProviderNode.Log.Reader;
        var records = LogWindow.Read(reader, _window, 100).Where(r => r.MessageId != except);
        var evidence = LogWindow.Evidence(reader, records);
        Assert.That(evidence.All(e => e.TreeHead is not null), "stamped in the set-up");
        return EvidenceBundle.BuildWindow(evidence, [_bus.Registry.Keys.RootCertificate], _window);
    }

    private BundleReconcileResult Reconcile(byte[] bundle) =>
        BundleReconciliation.Reconcile(new MemoryStream(bundle), _bus.ClientNode.Node, _bus.ClientNode.Log.Reader, [_bus.Registry.Keys.RootCertificate], TimeProvider.System, maxRecords: 100);
}
