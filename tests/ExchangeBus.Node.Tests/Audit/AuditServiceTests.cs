// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Signing;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// The node's audit API over real mutual TLS, with auditor certificates the registry issued:
/// who may see what, evidence that verifies, and every query in the log itself.
/// </summary>
[NonParallelizable]
public sealed class AuditServiceTests
{
    private BusFixture _bus = null!;
    private X509Certificate2 _providerAuditor = null!;
    private X509Certificate2 _otherAuditor = null!;
    private X509Certificate2 _nationalAuditor = null!;
    private CallResponse _call = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(parameters: new ConfigurationParameters { TimeStampingIntervalSeconds = 3600 });
        using (var admin = _bus.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.Z99", Name = "Ministry of Elsewhere" }).ResponseAsync;
        }

        _providerAuditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Nguyễn Văn An");
        _otherAuditor = await _bus.IssueAuditorAsync("VN/GOV/000.00.00.Z99", "Lê Thị Hoa");
        _nationalAuditor = await _bus.IssueAuditorAsync(string.Empty, "State Audit Office");
        using var local = _bus.LocalChannel();
        _call = await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            SubjectId = "citizen-042",
            Payload = ByteString.CopyFromUtf8("who is citizen-042?"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync;
        await _bus.ProviderNode.Stamper.StampAsync(CancellationToken.None);
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _providerAuditor.Dispose();
        _otherAuditor.Dispose();
        _nationalAuditor.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task MemberAuditor_FindsTheCitizensRecords_AndTheQueryIsItselfLogged()
    {
        using var channel = AuditChannel(_providerAuditor);
        var before = _bus.ProviderNode.Log.LastSequence();

        var page = await new AuditService.AuditServiceClient(channel).QueryAsync(new QueryRequest { SubjectId = "citizen-042" }).ResponseAsync;

        Assert.That(page.Records.Select(r => (r.MessageId, (MessageDirection)r.Direction)), Is.EqualTo(new[]
        {
            (_call.MessageId, MessageDirection.ProviderRequest),
            (_call.MessageId, MessageDirection.ProviderResponse),
        }));
        var logged = _bus.ProviderNode.Log.Get(before + 1)!.Record;
        Assert.That(logged.Direction, Is.EqualTo(MessageDirection.AuditQuery));
        Assert.That(logged.Service, Is.EqualTo("audit/Query"));
        Assert.That(logged.Client, Is.EqualTo($"auditor:{BusFixture.Provider}"));
        Assert.That(logged.UserId, Is.EqualTo("Nguyễn Văn An"));
        Assert.That(QueryRequest.Parser.ParseFrom(logged.Header).SubjectId, Is.EqualTo("citizen-042"));
    }

    [Test]
    public async Task Record_ComesWithEvidence_ThatVerifiesWithoutTheNode()
    {
        using var channel = AuditChannel(_providerAuditor);
        var request = _bus.ProviderNode.Log.FindByMessageId(_call.MessageId).First(e => e.Record.Direction == MessageDirection.ProviderRequest);

        var evidence = await new AuditService.AuditServiceClient(channel).GetRecordAsync(new GetRecordRequest { Sequence = (ulong)request.Sequence }).ResponseAsync;

        // The signature over header and body, by the client member's certificate.
        using var signer = X509CertificateLoader.LoadCertificate(evidence.SignerCertificate.Span);
        var digest = EnvelopeDigest.Compute(evidence.Record.Header.Span, evidence.Record.Body.Span);
        Assert.That(signer.GetECDsaPublicKey()!.VerifyData(digest, evidence.Record.Signature.Span, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence), Is.True);
        Assert.That(evidence.OcspResponse.IsEmpty, Is.False);
        // The record is in the tree whose head the node signed and the TSA stamped.
        var head = TreeHead.Parser.ParseFrom(evidence.TreeHead.TreeHead);
        var proof = evidence.Inclusion.Hashes.Select(h => h.ToByteArray()).ToArray();
        Assert.That(MerkleVerifier.VerifyInclusion((long)evidence.Inclusion.LeafIndex, (long)head.TreeSize, MerkleHash.HashLeaf(evidence.Record.Hash.Span), proof, head.RootHash.Span).IsValid, Is.True);
        Assert.That(evidence.Inclusion.TreeSize, Is.EqualTo(head.TreeSize));
    }

    [Test]
    public async Task AuditorOfAnotherMember_SeesNothing_AndIsRefusedTheRecord()
    {
        using var channel = AuditChannel(_otherAuditor);
        var sequence = _bus.ProviderNode.Log.FindByMessageId(_call.MessageId)[0].Sequence;

        var page = await new AuditService.AuditServiceClient(channel).QueryAsync(new QueryRequest { SubjectId = "citizen-042" }).ResponseAsync;
        var refused = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(channel).GetRecordAsync(new GetRecordRequest { Sequence = (ulong)sequence }).ResponseAsync);

        Assert.That(page.Records, Is.Empty);
        Assert.That(refused!.ErrorCode, Is.EqualTo(AuditErrors.OutOfScope));
        Assert.That(refused.StatusCode, Is.EqualTo(StatusCode.PermissionDenied));
    }

    [Test]
    public async Task Ranges_AreForNationalAuditorsOnly()
    {
        using var member = AuditChannel(_providerAuditor);
        using var national = AuditChannel(_nationalAuditor);

        var refused = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(member).ReadRangeAsync(new ReadRangeRequest { FromSequence = 1 }).ResponseAsync);
        var range = await new AuditService.AuditServiceClient(national).ReadRangeAsync(new ReadRangeRequest { FromSequence = 1, ToSequence = 2 }).ResponseAsync;

        Assert.That(refused!.ErrorCode, Is.EqualTo(AuditErrors.NationalOnly));
        Assert.That(range.Records.Select(r => r.Sequence), Is.EqualTo(new ulong[] { 1, 2 }));
        Assert.That(range.Records[1].PrevHash, Is.EqualTo(range.Records[0].Hash));
        Assert.That(range.Certificates, Has.Count.EqualTo(2), "the two members' signing certificates (request, response)");
    }

    [Test]
    public async Task NodeCertificate_IsNotAnAuditors_AndTheRefusalIsLogged()
    {
        using var channel = AuditChannel(_bus.ClientNode.Keys.Authentication);
        var before = _bus.ProviderNode.Log.LastSequence();

        var refused = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(channel).QueryAsync(new QueryRequest()).ResponseAsync);

        Assert.That(refused!.ErrorCode, Is.EqualTo(AuditErrors.NotAuditor));
        Assert.That(refused.CorrelationId, Is.Not.Empty);
        var logged = _bus.ProviderNode.Log.Get(before + 1)!.Record;
        Assert.That((logged.Direction, logged.Status, logged.Client), Is.EqualTo((MessageDirection.AuditQuery, AuditErrors.NotAuditor, $"node:{_bus.ClientNode.Node}")));
        Assert.That(logged.CorrelationId, Is.EqualTo(refused.CorrelationId));
    }

    [Test]
    public async Task NodeCertificate_WithARequestOver64KiB_IsRefusedNotAuditor_AndLoggedWithoutTheRequest()
    {
        using var channel = AuditChannel(_bus.ClientNode.Keys.Authentication);
        var before = _bus.ProviderNode.Log.LastSequence();

        var refused = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(channel).QueryAsync(new QueryRequest { SubjectId = new string('x', 70_000) }).ResponseAsync);

        Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, AuditErrors.NotAuditor)));
        var logged = _bus.ProviderNode.Log.Get(before + 1)!.Record;
        Assert.That((logged.Status, logged.Client, logged.Service), Is.EqualTo((AuditErrors.NotAuditor, $"node:{_bus.ClientNode.Node}", "audit/Query")));
        Assert.That(logged.Header, Is.Empty, "a stranger's request is not kept");
        Assert.That((logged.UserId, logged.SubjectId), Is.EqualTo((string.Empty, (string?)null)));
    }

    [Test]
    public async Task MemberLevelClient_ItsRecordsOnTheProvidersNode_AreSeenByThatMembersAuditor()
    {
        // A request whose client is the member itself, not one of its subsystems: the provider
        // refuses it (no access rule) and logs the refusal under client VN/GOV/000.00.00.G01.
        var header = _bus.RequestHeader(BusFixture.Client);
        using (var peer = _bus.PeerChannel(_bus.ClientNode.Keys.Authentication))
        {
            var denied = await Assert.ThrowsAsync<RpcException>(() => new Contracts.Exchange.V1.Exchange.ExchangeClient(peer).DeliverAsync(_bus.SignAsClient(header)).ResponseAsync);
            Assert.That(denied!.ErrorCode, Is.EqualTo(Node.NodeErrors.AccessDenied));
        }

        var record = _bus.ProviderNode.Log.FindByMessageId(header.MessageId).Single();
        Assert.That(record.Record.Client, Is.EqualTo(BusFixture.Client));
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Client, "Trần Văn Bình");
        using var channel = AuditChannel(auditor);
        var client = new AuditService.AuditServiceClient(channel);

        var page = await client.QueryAsync(new QueryRequest { MessageId = header.MessageId }).ResponseAsync;
        var evidence = await client.GetRecordAsync(new GetRecordRequest { Sequence = (ulong)record.Sequence }).ResponseAsync;

        Assert.That(page.Records.Select(r => (r.Client, r.Status)), Is.EqualTo(new[] { (BusFixture.Client, Node.NodeErrors.AccessDenied) }));
        Assert.That(evidence.Record.MessageId, Is.EqualTo(header.MessageId));

        // A member whose code only starts like G01's sees none of it.
        using (var admin = _bus.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.G0", Name = "Ministry of Prefixes" }).ResponseAsync;
        }

        using var prefix = await _bus.IssueAuditorAsync("VN/GOV/000.00.00.G0", "Phạm Thị Lan");
        using var prefixChannel = AuditChannel(prefix);
        var none = await new AuditService.AuditServiceClient(prefixChannel).QueryAsync(new QueryRequest { MessageId = header.MessageId }).ResponseAsync;
        Assert.That(none.Records, Is.Empty);
    }

    [Test]
    public async Task RevokedAuditor_IsRefusedEveryAuditCall_WithACodeAndCorrelationId()
    {
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Đỗ Minh Tuấn");
        using (var admin = _bus.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = auditor.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;
        }

        using var channel = AuditChannel(auditor);
        var client = new AuditService.AuditServiceClient(channel);
        var before = _bus.ProviderNode.Log.LastSequence();
        var calls = new Func<Task>[]
        {
            () => client.QueryAsync(new QueryRequest { SubjectId = "citizen-042" }).ResponseAsync,
            () => client.GetRecordAsync(new GetRecordRequest { Sequence = 1 }).ResponseAsync,
            () => client.GetTreeHeadsAsync(new GetTreeHeadsRequest()).ResponseAsync,
            () => client.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstSize = 1, SecondSize = 2 }).ResponseAsync,
            () => client.ReadRangeAsync(new ReadRangeRequest { FromSequence = 1 }).ResponseAsync,
        };

        foreach (var call in calls)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => call());
            Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, AuditErrors.AuditorRevoked)));
            Assert.That(refused.CorrelationId, Is.Not.Empty);
        }

        var logged = _bus.ProviderNode.Log.Get(before + 1)!.Record;
        Assert.That((logged.Status, logged.Client, logged.Header.Length), Is.EqualTo((AuditErrors.AuditorRevoked, $"auditor:{BusFixture.Provider}", 0)));
    }

    [Test]
    public async Task AuditorStatus_IsAskedOnce_ForABurstOfCalls()
    {
        using var auditor = await _bus.IssueAuditorAsync(BusFixture.Provider, "Vũ Thị Mai");
        using var channel = AuditChannel(auditor);
        var client = new AuditService.AuditServiceClient(channel);
        var asked = await StatusRequestsAsync();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetTreeHeadsAsync(new GetTreeHeadsRequest()).ResponseAsync));
        await client.QueryAsync(new QueryRequest { SubjectId = "citizen-042" }).ResponseAsync;

        Assert.That(await StatusRequestsAsync(), Is.EqualTo(asked + 1));
    }

    private async Task<double> StatusRequestsAsync()
    {
        using var http = new HttpClient();
        var metrics = Hosting.PrometheusText.Parse(await http.GetStringAsync(new Uri(_bus.ProviderNode.MetricsAddress + "/metrics")));
        return metrics.Find("xbus_certificate_status_requests_total").Sum(s => s.Value);
    }

    [Test]
    public async Task MalformedPageToken_InvalidPageToken()
    {
        using var channel = AuditChannel(_nationalAuditor);

        var refused = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(channel).QueryAsync(new QueryRequest { PageToken = "not-a-token" }).ResponseAsync);

        Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.InvalidArgument, AuditErrors.InvalidPageToken)));
    }

    [Test]
    public async Task TreeHeads_AndConsistency_ForAnyAuditor()
    {
        using var channel = AuditChannel(_otherAuditor);
        var heads = await new AuditService.AuditServiceClient(channel).GetTreeHeadsAsync(new GetTreeHeadsRequest()).ResponseAsync;
        var size = TreeHead.Parser.ParseFrom(heads.Heads[0].TreeHead).TreeSize;

        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(channel).GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstSize = 1, SecondSize = 1_000_000 }).ResponseAsync);

        Assert.That(size, Is.GreaterThanOrEqualTo(2UL));
        Assert.That(tooLarge!.ErrorCode, Is.EqualTo(AuditErrors.InvalidArgument));
    }

    [Test]
    public async Task StampTreeHead_AnyAuditor_GetsAHeadOverTheRecordWrittenJustBefore_AndTheCallIsLogged()
    {
        using var local = _bus.LocalChannel();
        await TreeHeadStamperTests.Call(local);
        var provider = _bus.ProviderNode;
        var through = provider.Log.LastSequence();
        Assert.That(provider.Log.Reader.FirstTreeHeadCovering(through), Is.Null, "the hourly loop has not stamped the call");
        using var channel = AuditChannel(_otherAuditor); // another member's auditor: heads are no one's personal data

        var response = await new AuditService.AuditServiceClient(channel).StampTreeHeadAsync(new StampTreeHeadRequest()).ResponseAsync;

        var head = TreeHead.Parser.ParseFrom(response.Head.TreeHead);
        Assert.That(head.TreeSize, Is.EqualTo((ulong)through));
        Assert.That(head.RootHash.ToByteArray(), Is.EqualTo(provider.Log.Reader.TreeRoot(through)));
        Assert.That(provider.Log.Reader.FirstTreeHeadCovering(through)!.TreeHead, Is.EqualTo(response.Head.TreeHead.ToByteArray()));
        var logged = provider.Log.Get(through + 1)!.Record;
        Assert.That((logged.Direction, logged.Service, logged.Status), Is.EqualTo((MessageDirection.AuditQuery, "audit/StampTreeHead", MessageLogRecord.StatusOk)));
    }

    [Test]
    public async Task StampTreeHead_NodeCertificate_IsRefusedNotAuditor_AndNothingIsStamped()
    {
        using var channel = AuditChannel(_bus.ClientNode.Keys.Authentication);
        var heads = _bus.ProviderNode.Log.Reader.TreeHeads(0, long.MaxValue, 1_000).Count;

        var refused = await Assert.ThrowsAsync<RpcException>(() => new AuditService.AuditServiceClient(channel).StampTreeHeadAsync(new StampTreeHeadRequest()).ResponseAsync);

        Assert.That((refused!.StatusCode, refused.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, AuditErrors.NotAuditor)));
        Assert.That(refused.CorrelationId, Is.Not.Empty);
        Assert.That(_bus.ProviderNode.Log.Reader.TreeHeads(0, long.MaxValue, 1_000), Has.Count.EqualTo(heads));
    }

    [Test]
    public async Task XbusAuditStamp_PrintsTheHeadsSizeAndTime_AndRefusalsKeepTheirCodes()
    {
        var work = Directory.CreateTempSubdirectory("xbus-stamp-").FullName;
        try
        {
            var auditor = Path.Combine(work, "auditor");
            Directory.CreateDirectory(auditor);
            PemFiles.WriteCertificate(Path.Combine(auditor, "auditor.pem"), _nationalAuditor);
            using (var key = _nationalAuditor.GetECDsaPrivateKey()!)
            {
                PemFiles.WritePrivateKey(Path.Combine(auditor, "auditor.key.pem"), key);
            }

            var node = Path.Combine(work, "node"); // a node's own TLS identity, presented as if it were an auditor's
            Directory.CreateDirectory(node);
            File.Copy(_bus.ClientData.Paths.AuthenticationCertificate, Path.Combine(node, "auditor.pem"));
            File.Copy(_bus.ClientData.Paths.AuthenticationKey, Path.Combine(node, "auditor.key.pem"));
            var root = Path.Combine(work, "root.pem");
            await File.WriteAllTextAsync(root, _bus.Registry.Keys.RootCertificate.ExportCertificatePem());
            string[] at = ["--node", "https://" + _bus.ProviderNode.PeerAddress, "--trust-root", root];
            using (var local = _bus.LocalChannel())
            {
                await TreeHeadStamperTests.Call(local);
            }

            var through = _bus.ProviderNode.Log.LastSequence();

            var stamped = await XbusProcess.RunAsync(["audit", "stamp", "--auditor", auditor, .. at]);
            var json = await XbusProcess.RunAsync(["audit", "stamp", "--auditor", auditor, "--json", .. at]);
            var notAuditor = await XbusProcess.RunAsync(["audit", "stamp", "--auditor", node, .. at]);
            var plaintext = await XbusProcess.RunAsync("audit", "stamp", "--auditor", auditor, "--node", "http://" + _bus.ProviderNode.PeerAddress, "--trust-root", root);

            Assert.That(stamped.Exit, Is.Zero, stamped.ToString());
            Assert.That(stamped.Output, Does.StartWith($"tree head over {through} records of {_bus.ProviderNode.Node}").And.Contain("time-stamped: "));
            Assert.That(json.Exit, Is.Zero, json.ToString());
            var printed = System.Text.Json.JsonDocument.Parse(json.Output).RootElement;
            Assert.That(printed.GetProperty("tree_size").GetInt64(), Is.EqualTo(through + 1), "the first stamp call's own record, covered by the second");
            Assert.That(DateTimeOffset.Parse(printed.GetProperty("time_stamp_time").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(TimeStampTime(_bus.ProviderNode.Log.Reader.FirstTreeHeadCovering(through + 1)!.TimeStampToken)));
            Assert.That(notAuditor.Exit, Is.EqualTo(2), notAuditor.ToString());
            Assert.That(notAuditor.Error, Does.StartWith($"error {AuditErrors.NotAuditor}: "));
            Assert.That(plaintext.Exit, Is.EqualTo(2), plaintext.ToString());
            Assert.That(plaintext.Error, Does.StartWith("error Cli.InvalidArguments: "));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static DateTimeOffset TimeStampTime(byte[] token) =>
        System.Security.Cryptography.Pkcs.Rfc3161TimestampToken.TryDecode(token, out var decoded, out _) ? decoded.TokenInfo.Timestamp : throw new AssertionException("not a token");

    private GrpcChannel AuditChannel(X509Certificate2 certificate) => _bus.AuditChannel(_bus.ProviderNode, certificate);
}
