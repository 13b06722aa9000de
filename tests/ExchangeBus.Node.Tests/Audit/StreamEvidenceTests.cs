// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBus.Node.Audit;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Gateway;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Tests.TrustServices;
using ExchangeBus.Samples.Citizen.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// A streamed call's evidence (docs/audit.md, "Streamed calls"), from the logs two real nodes
/// wrote for a server-streaming call through typed stubs: its bundle holds every link of both
/// directions and both end records and verifies, with xbus and with check.sh; a bundle with a
/// link removed, the end cut off, two links swapped or one from another stream fails both with
/// the chain's code, naming the link.
/// </summary>
[NonParallelizable]
public sealed partial class StreamEvidenceTests
{
    private const string Service = BusFixture.ProviderSubsystem + "/citizenRegistry/v1";
    private const string Citizen = "citizen-077";

    private GrpcBackend _backend = null!;
    private BusFixture _bus = null!;
    private X509Certificate2 _auditor = null!;
    private string _messageId = null!;
    private string _otherMessageId = null!;
    private byte[] _bundle = null!;
    private byte[] _otherBundle = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _backend = await GrpcBackend.StartAsync<DocumentsBackend>();
        var address = _backend.Address;
        _bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 }, prepared: bus =>
        {
            var paths = bus.ProviderData[0].Paths;
            var settings = NodeSettings.Read(paths.Settings);
            (settings with
            {
                Services =
                [
                    .. settings.Services,
                    new ServiceSettings { Service = Service, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = address, GrpcService = CitizenRegistry.Descriptor.FullName } },
                ],
                AccessRules = [.. settings.AccessRules, new AccessRule { Service = Service, Subject = BusFixture.ClientSubsystem }],
            }).Write(paths.Settings);
            return Task.CompletedTask;
        });
        _auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Nguyễn Văn An");

        using var local = _bus.LocalChannel();
        _messageId = await ListDocumentsAsync(local, Citizen);
        _otherMessageId = await ListDocumentsAsync(local, "citizen-078");
        await _bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
        await _bus.ClientNode.Stamper.StampAsync(CancellationToken.None);
        _bundle = await ExportAsync(_messageId);
        _otherBundle = await ExportAsync(_otherMessageId);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _auditor.Dispose();
        await _bus.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [SetUp]
    public void MakeWorkFolder() => _work = Directory.CreateTempSubdirectory("xbus-stream-bundle-").FullName;

    [TearDown]
    public void RemoveWorkFolder() => Directory.Delete(_work, recursive: true);

    [Test]
    public async Task Bundle_HoldsEveryLinkOfBothDirectionsAndBothEnds_AndVerifies_WithXbusAndCheckSh()
    {
        var result = Verify(_bundle);

        Assert.That(result.Problems, Is.Empty);
        var logged = _bus.ProviderNode.Log.FindByMessageId(_messageId);
        Assert.That(result.Records, Is.EqualTo(logged.Select(e => (ulong)e.Sequence)));
        Assert.That(Kinds(_bundle), Is.EqualTo(new[]
        {
            (MessageDirection.ProviderRequest, 0UL, Contracts.Exchange.V1.MessageKind.Request),
            (MessageDirection.ProviderRequest, 1UL, Contracts.Exchange.V1.MessageKind.RequestEnd),
            (MessageDirection.ProviderResponse, 0UL, Contracts.Exchange.V1.MessageKind.ResponseHeaders),
            (MessageDirection.ProviderResponse, 1UL, Contracts.Exchange.V1.MessageKind.Response),
            (MessageDirection.ProviderResponse, 2UL, Contracts.Exchange.V1.MessageKind.Response),
            (MessageDirection.ProviderResponse, 3UL, Contracts.Exchange.V1.MessageKind.Response),
            (MessageDirection.ProviderResponse, 4UL, Contracts.Exchange.V1.MessageKind.ResponseEnd),
        }));

        var check = await CheckShAsync(_bundle);

        Assert.That(check.ExitCode, Is.Zero, check.All);
        Assert.That(check.Output, Does.Contain("ok      the streamed records, if any, are whole chains"));
        var streams = await OpenSsl.ShellAsync(Path.Combine(_work, "bundle"), "python3 check-record.py streams");
        Assert.That(streams.ExitCode, Is.Zero, streams.All);
        Assert.That(streams.Output, Does.Contain($"{Link(MessageDirection.ProviderResponse, 4)}header.bin: the ProviderResponse chain of 4 message(s) is closed by its end record"));
        Assert.That(streams.Output, Does.Contain($"{Link(MessageDirection.ProviderRequest, 1)}header.bin: the ProviderRequest chain of 1 message(s) is closed by its end record"));
    }

    [Test]
    public async Task ResponseLinkRemoved_StreamGap_AtTheNextLink()
    {
        var tampered = Tamper(files => Remove(files, Link(MessageDirection.ProviderResponse, 1)));

        await AssertFailsAsync(tampered, [(MessageLogProblems.StreamGap, Link(MessageDirection.ProviderResponse, 2) + "header.bin")]);
    }

    [Test]
    public async Task EndRecordRemoved_StreamGap_AtTheLastLink_TheStreamIsTruncated()
    {
        var tampered = Tamper(files => Remove(files, Link(MessageDirection.ProviderResponse, 4)));

        await AssertFailsAsync(tampered, [(MessageLogProblems.StreamGap, Link(MessageDirection.ProviderResponse, 3) + "header.bin")]);
    }

    [Test]
    public async Task EveryResponseRecordRemoved_StreamGap_TheDirectionIsMissing()
    {
        var tampered = Tamper(files =>
        {
            foreach (var position in new ulong[] { 0, 1, 2, 3, 4 })
            {
                Remove(files, Link(MessageDirection.ProviderResponse, position));
            }
        });

        await AssertFailsAsync(tampered, [(MessageLogProblems.StreamGap, Link(MessageDirection.ProviderRequest, 0) + "header.bin")]);
    }

    [Test]
    public async Task TwoResponseLinksSwapped_RecordHashesAndStreamOutOfOrder()
    {
        var (first, second) = (Link(MessageDirection.ProviderResponse, 1), Link(MessageDirection.ProviderResponse, 2));

        // The signed messages exchanged between the two records (header, body, signature and the body's hash in record.json).
        var tampered = Tamper(files =>
        {
            var a = SignedParts(files, first);
            var b = SignedParts(files, second);
            PutSignedParts(files, first, b);
            PutSignedParts(files, second, a);
        });

        await AssertFailsAsync(tampered,
        [
            (EvidenceBundleErrors.RecordHashMismatch, first + "record.json"),
            (EvidenceBundleErrors.RecordHashMismatch, second + "record.json"),
            (MessageLogProblems.StreamOutOfOrder, first + "header.bin"),
        ]);
    }

    [Test]
    public async Task ResponseLinkSplicedFromAnotherStream_RecordHashAndStreamBroken()
    {
        var link = Link(MessageDirection.ProviderResponse, 1);
        var other = Link(MessageDirection.ProviderResponse, 1, _otherBundle);

        var tampered = Tamper(files => PutSignedParts(files, link, SignedParts(BundleTestFiles.Unzip(_otherBundle), other)));

        await AssertFailsAsync(tampered,
        [
            (EvidenceBundleErrors.RecordHashMismatch, link + "record.json"),
            (MessageLogProblems.StreamBroken, link + "header.bin"),
        ]);
    }

    /// <summary>Both verifiers fail it: verify-bundle with exactly <paramref name="expected"/>, check.sh with the chain's code on its streams line.</summary>
    private async Task AssertFailsAsync(byte[] tampered, (string Code, string File)[] expected)
    {
        var result = Verify(tampered);
        Assert.That(result.Problems.Select(p => (p.Code, p.File)), Is.EqualTo(expected), string.Join("\n", result.Problems));

        var check = await CheckShAsync(tampered);
        var (code, file) = expected[^1];
        Assert.That(check.ExitCode, Is.EqualTo(1), check.All);
        Assert.That(check.Output, Does.Contain("FAILED  the streamed records, if any, are whole chains"), check.All);
        Assert.That(check.Output, Does.Contain($"        {code} {file}: "), check.All);
        Assert.That(check.Output, Does.Contain(result.Problems[^1].ToString()), "check.sh and verify-bundle say the same");
    }

    /// <summary>The bundle's folder of the link at <paramref name="position"/> of <paramref name="direction"/>.</summary>
    private string Link(MessageDirection direction, ulong position, byte[]? bundle = null)
    {
        var files = BundleTestFiles.Unzip(bundle ?? _bundle);
        return files.Keys.Where(k => k.EndsWith("/header.bin", StringComparison.Ordinal) && k.StartsWith("records/", StringComparison.Ordinal))
            .Select(k => k[..^"header.bin".Length])
            .Single(folder =>
            {
                var header = Contracts.Exchange.V1.MessageHeader.Parser.ParseFrom(files[folder + "header.bin"]);
                return Direction(files, folder) == direction && header.StreamPosition == position;
            });
    }

    private static MessageDirection Direction(SortedDictionary<string, byte[]> files, string folder) =>
        (MessageDirection)JsonNode.Parse(files[folder + "record.json"])!["direction"]!.GetValue<int>();

    private static (MessageDirection, ulong, Contracts.Exchange.V1.MessageKind)[] Kinds(byte[] bundle)
    {
        var files = BundleTestFiles.Unzip(bundle);
        return [.. files.Keys.Where(k => k.EndsWith("/header.bin", StringComparison.Ordinal))
            .Select(k => (Folder: k[..^"header.bin".Length], Header: Contracts.Exchange.V1.MessageHeader.Parser.ParseFrom(files[k])))
            .Select(x => (Direction(files, x.Folder), x.Header.StreamPosition, x.Header.Kind))
            .OrderBy(x => x.Item1).ThenBy(x => x.StreamPosition)];
    }

    private static void Remove(SortedDictionary<string, byte[]> files, string folder)
    {
        foreach (var name in files.Keys.Where(k => k.StartsWith(folder, StringComparison.Ordinal)).ToList())
        {
            files.Remove(name);
        }
    }

    private static (byte[] Header, byte[] Body, byte[] Tbs, byte[] Signature, string BodySha256) SignedParts(SortedDictionary<string, byte[]> files, string folder) =>
        (files[folder + "header.bin"], files[folder + "body.bin"], files[folder + "tbs.bin"], files[folder + "signature.der"],
            JsonNode.Parse(files[folder + "record.json"])!["body_sha256"]!.GetValue<string>());

    private static void PutSignedParts(SortedDictionary<string, byte[]> files, string folder, (byte[] Header, byte[] Body, byte[] Tbs, byte[] Signature, string BodySha256) parts)
    {
        (files[folder + "header.bin"], files[folder + "body.bin"], files[folder + "tbs.bin"], files[folder + "signature.der"]) = (parts.Header, parts.Body, parts.Tbs, parts.Signature);
        var record = JsonNode.Parse(files[folder + "record.json"])!;
        record["body_sha256"] = parts.BodySha256;
        files[folder + "record.json"] = Encoding.UTF8.GetBytes(record.ToJsonString());
    }

    /// <summary>The bundle with <paramref name="edit"/> applied and its manifest rewritten to match, as someone who edits a bundle would.</summary>
    private byte[] Tamper(Action<SortedDictionary<string, byte[]>> edit)
    {
        var files = BundleTestFiles.Unzip(_bundle);
        edit(files);
        BundleTestFiles.RewriteManifest(files);
        return BundleTestFiles.Zip(files);
    }

    /// <summary>The bundle's own check.sh (real openssl, python3 and sh), unzipped in the work folder, trusting the bus root.</summary>
    private async Task<OpenSslResult> CheckShAsync(byte[] bundle)
    {
        ZipFile.ExtractToDirectory(new MemoryStream(bundle), Path.Combine(_work, "bundle"), overwriteFiles: true);
        await File.WriteAllTextAsync(Path.Combine(_work, "root.pem"), _bus.Registry.Keys.RootCertificate.ExportCertificatePem());
        return await OpenSsl.ShellAsync(_work, "sh bundle/check.sh root.pem");
    }

    private EvidenceBundleVerification Verify(byte[] bundle) =>
        new EvidenceBundleVerifier([_bus.Registry.Keys.RootCertificate], TimeProvider.System).Verify(new MemoryStream(bundle));

    private GrpcChannel AuditChannel(NodeServer node) => BundleTestFiles.AuditChannel(_bus, node, _auditor);

    private Task<byte[]> ExportAsync(string messageId) => BundleTestFiles.ExportAsync(_bus, _bus.ProviderNode, _auditor, messageId);

    /// <summary>A server-streaming call through the typed stub, about <paramref name="citizen"/>; its message id.</summary>
    private static async Task<string> ListDocumentsAsync(GrpcChannel local, string citizen)
    {
        using var call = new CitizenRegistry.CitizenRegistryClient(local).ListDocuments(new ListDocumentsRequest { CitizenId = citizen }, new Metadata
        {
            { TransparentGrpc.ClientHeader, BusFixture.ClientSubsystem },
            { TransparentGrpc.ServiceHeader, Service },
            { TransparentGrpc.UserIdHeader, "official-7" },
            { TransparentGrpc.SubjectIdHeader, citizen },
        }, DateTime.UtcNow.AddSeconds(60));
        var documents = await call.ResponseStream.ReadAllAsync().ToListAsync();
        Assert.That(documents, Has.Count.EqualTo(3));
        return (await call.ResponseHeadersAsync).GetValue(TransparentGrpc.MessageIdHeader)!;
    }

    /// <summary>The provider's own server: three documents for any citizen.</summary>
    private sealed class DocumentsBackend : CitizenRegistry.CitizenRegistryBase
    {
        public override async Task ListDocuments(ListDocumentsRequest request, IServerStreamWriter<Document> responseStream, ServerCallContext context)
        {
            foreach (var id in new[] { "birth", "passport", "residence" })
            {
                await responseStream.WriteAsync(new Document { DocumentId = $"{request.CitizenId}/{id}", Kind = id }, context.CancellationToken);
            }
        }
    }
}
