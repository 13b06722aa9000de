// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Registry.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// SubmitTreeHead and GetNodeTreeHeads over real mutual TLS: a real node's certificates from a
/// real registration, real tokens from the registry's /tsa endpoint, a real SQLite file.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class TreeHeadTests(StorageEngine engine) : OnEachEngine(engine)
{
    private static readonly NodeId NodeA = NodeId.Parse("VN/GOV/000.00.00.H01/ss1");
    private static readonly NodeId NodeB = NodeId.Parse("VN/GOV/000.00.00.G01/ss1");

    private RegistryFixture _registry = null!;
    private GrpcChannel _admin = null!;
    private TestNode _node = null!;
    private TestNode _other = null!;
    private GrpcChannel _channel = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync();
        _admin = _registry.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = NodeA.Owner.ToString(), Name = "Ministry of Public Security" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(_admin).AddMemberAsync(new AddMemberRequest { Member = NodeB.Owner.ToString(), Name = "Ministry of Transport" }).ResponseAsync;
        _node = await TestNode.RegisterAsync(_registry, _admin, NodeA);
        _other = await TestNode.RegisterAsync(_registry, _admin, NodeB);
        _channel = _node.Channel(_registry);
    }

    [TearDown]
    public async Task TearDown()
    {
        _channel.Dispose();
        _node.Dispose();
        _other.Dispose();
        _admin.Dispose();
        await _registry.DisposeAsync();
    }

    [Test]
    public async Task FirstHead_Accepted_AuditorsReadItBackByteForByte()
    {
        var head = await _node.HeadAsync(_registry, 10, Root(1));

        var response = await SubmitAsync(head);

        Assert.That(response.LatestSize, Is.EqualTo(10));
        using var national = await TestAuditors.IssueAsync(_admin, string.Empty, "Trần Thị Bình");
        using var ofAnotherMember = await TestAuditors.IssueAsync(_admin, NodeB.Owner.ToString(), "An");
        foreach (var auditor in new[] { national, ofAnotherMember })
        {
            using var channel = _registry.Channel(auditor);
            var read = await new RegistryService.RegistryServiceClient(channel).GetNodeTreeHeadsAsync(new GetNodeTreeHeadsRequest { Node = NodeA.ToString() }).ResponseAsync;
            Assert.That(read.Heads, Is.EqualTo(new[] { head }));
        }
    }

    [Test]
    public async Task SameHeadAgain_IdempotentNothingAdded()
    {
        var head = await _node.HeadAsync(_registry, 10, Root(1));
        await SubmitAsync(head);

        var again = await SubmitAsync(head);

        Assert.That(again.LatestSize, Is.EqualTo(10));
        Assert.That(_registry.Store.ReadTreeHeads(NodeA, 0, 100), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task SameSizeAnotherRoot_RefusedAsConflictAndKeptAsEvidence()
    {
        var held = await _node.HeadAsync(_registry, 10, Root(1));
        await SubmitAsync(held);
        var rewritten = await _node.HeadAsync(_registry, 10, Root(2));

        await AssertRefusedAsync(rewritten, RegistryErrors.TreeHeadConflict, StatusCode.FailedPrecondition, previousSize: 10);

        Assert.That(_registry.Store.ReadTreeHeads(NodeA, 0, 100), Is.EqualTo(new[] { held }));
        Assert.That(_registry.Store.CountTreeHeadConflicts(NodeA), Is.EqualTo(new Dictionary<string, long> { [RegistryErrors.TreeHeadConflict] = 1 }));
    }

    [Test]
    public async Task SmallerThanHeld_Refused()
    {
        await SubmitAsync(await _node.HeadAsync(_registry, 10, Root(1)));

        await AssertRefusedAsync(await _node.HeadAsync(_registry, 9, Root(3)), RegistryErrors.TreeHeadTooSmall, StatusCode.FailedPrecondition, previousSize: 10);
    }

    [Test]
    public async Task FirstHeadClaimingAPreviousOne_PreviousSizeMismatch() =>
        await AssertRefusedAsync(await _node.HeadAsync(_registry, 10, Root(1)), RegistryErrors.PreviousSizeMismatch, StatusCode.FailedPrecondition, previousSize: 4);

    [Test]
    public async Task GrowingWithPreviousSizeOtherThanHeld_PreviousSizeMismatch()
    {
        await SubmitAsync(await _node.HeadAsync(_registry, 10, Root(1)));

        await AssertRefusedAsync(await _node.HeadAsync(_registry, 20, Root(2)), RegistryErrors.PreviousSizeMismatch, StatusCode.FailedPrecondition, previousSize: 5);
    }

    [Test]
    public async Task GrowingWithAProofThatDoesNotVerify_InconsistentAndKeptAsEvidence()
    {
        await SubmitAsync(await _node.HeadAsync(_registry, 10, Root(1)));
        var head = await _node.HeadAsync(_registry, 20, Root(2));

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(_channel).SubmitTreeHeadAsync(new SubmitTreeHeadRequest { Head = head, PreviousSize = 10, ConsistencyProof = { ByteString.CopyFrom(Root(7)), ByteString.CopyFrom(Root(8)) } }).ResponseAsync);

        Assert.That((ex!.StatusCode, ex.ErrorCode), Is.EqualTo((StatusCode.FailedPrecondition, RegistryErrors.InconsistentTreeHead)));
        Assert.That(_registry.Store.ReadTreeHeads(NodeA, 0, 100).Select(Size), Is.EqualTo(new[] { 10L }));
        Assert.That(_registry.Store.CountTreeHeadConflicts(NodeA)[RegistryErrors.InconsistentTreeHead], Is.EqualTo(1));
    }

    [Test]
    public async Task GrowingWithAValidConsistencyProof_Accepted_AndPagedInSizeOrder()
    {
        // A real tree: leaves are record hashes, as a node's message log makes them.
        var store = new InMemoryMerkleNodeStore();
        var builder = new MerkleTreeBuilder();
        var roots = new Dictionary<long, byte[]>();
        for (var i = 0; i < 8; i++)
        {
            builder.Append(MerkleHash.HashLeaf(SHA256.HashData(BitConverter.GetBytes(i))), store);
            roots[builder.Size] = builder.ComputeRoot();
        }

        await SubmitAsync(await _node.HeadAsync(_registry, 3, roots[3]));
        ulong held = 3;
        foreach (var size in new long[] { 7, 8 })
        {
            var proof = MerkleProofs.ConsistencyProof(store, (long)held, size).Select(ByteString.CopyFrom);
            var response = await new RegistryService.RegistryServiceClient(_channel).SubmitTreeHeadAsync(new SubmitTreeHeadRequest
            {
                Head = await _node.HeadAsync(_registry, size, roots[size]),
                PreviousSize = held,
                ConsistencyProof = { proof },
            }).ResponseAsync;
            Assert.That(response.LatestSize, Is.EqualTo((ulong)size));
            held = (ulong)size;
        }

        using var auditor = await TestAuditors.IssueAsync(_admin, string.Empty, "National Auditor");
        using var channel = _registry.Channel(auditor);
        var first = await new RegistryService.RegistryServiceClient(channel).GetNodeTreeHeadsAsync(new GetNodeTreeHeadsRequest { Node = NodeA.ToString(), Limit = 2 }).ResponseAsync;
        var rest = await new RegistryService.RegistryServiceClient(channel).GetNodeTreeHeadsAsync(new GetNodeTreeHeadsRequest { Node = NodeA.ToString(), FromSize = 8 }).ResponseAsync;
        Assert.That(first.Heads.Select(Size), Is.EqualTo(new[] { 3L, 7L }));
        Assert.That(rest.Heads.Select(Size), Is.EqualTo(new[] { 8L }));
        Assert.That(_registry.Store.CountTreeHeadConflicts(NodeA), Is.Empty);
    }

    [Test]
    public async Task Anonymous_Unauthenticated()
    {
        using var anonymous = _registry.Channel(null);

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(anonymous).SubmitTreeHeadAsync(new SubmitTreeHeadRequest()).ResponseAsync);

        Assert.That((ex!.StatusCode, ex.ErrorCode), Is.EqualTo((StatusCode.Unauthenticated, RegistryErrors.NotNode)));
        Assert.That(ex.CorrelationId, Is.Not.Empty);
    }

    [Test]
    public async Task AdministratorOrAuditorCertificate_NotNode()
    {
        using var auditor = await TestAuditors.IssueAsync(_admin, NodeA.Owner.ToString(), "ss1");
        foreach (var channel in new[] { _registry.AdminChannel(), _registry.Channel(auditor) })
        {
            using (channel)
            {
                var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(channel).SubmitTreeHeadAsync(new SubmitTreeHeadRequest { Head = new SignedTreeHead() }).ResponseAsync);
                Assert.That((ex!.StatusCode, ex.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.NotNode)));
            }
        }
    }

    [Test]
    public async Task RevokedAuthenticationCertificate_Refused()
    {
        await new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = _node.Authentication.SerialNumber }).ResponseAsync;

        await AssertRefusedAsync(await _node.HeadAsync(_registry, 10, Root(1)), RegistryErrors.CertificateRevoked, StatusCode.PermissionDenied);
    }

    [Test]
    public async Task HeadNamingAnotherNode_WrongNode()
    {
        var head = await _node.SignAsync(_registry, TreeHeadBytes(NodeB.ToString(), 10, Root(1)));

        await AssertRefusedAsync(head, RegistryErrors.TreeHeadWrongNode, StatusCode.PermissionDenied);
    }

    [TestCase("not a node", 10UL, 32)]
    [TestCase("VN/GOV/000.00.00.H01/ss1", 0UL, 32)]
    [TestCase("VN/GOV/000.00.00.H01/ss1", 10UL, 31)]
    [TestCase("VN/GOV/000.00.00.H01/ss1", ulong.MaxValue, 32)]
    public async Task BadHeadFields_Malformed(string node, ulong size, int rootLength)
    {
        var head = await _node.SignAsync(_registry, TreeHeadBytes(node, size, new byte[rootLength]));

        await AssertRefusedAsync(head, RegistryErrors.MalformedTreeHead, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task HeadBytesNotATreeHead_Malformed()
    {
        var head = await _node.SignAsync(_registry, ByteString.CopyFrom(0xFF, 0xFF, 0xFF));

        await AssertRefusedAsync(head, RegistryErrors.MalformedTreeHead, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task SignedWithAnotherKey_InvalidSignature()
    {
        using var stranger = EcKeys.GenerateP256();
        var head = await _node.SignAsync(_registry, TreeHeadBytes(NodeA.ToString(), 10, Root(1)), key: stranger);

        await AssertRefusedAsync(head, RegistryErrors.InvalidTreeHeadSignature, StatusCode.PermissionDenied);
    }

    [Test]
    public async Task SignedByAnotherMember_InvalidSignerCertificate()
    {
        var head = await _node.SignAsync(_registry, TreeHeadBytes(NodeA.ToString(), 10, Root(1)), key: _other.SigningKey, signer: _other.Signing);

        await AssertRefusedAsync(head, RegistryErrors.InvalidSignerCertificate, StatusCode.PermissionDenied);
    }

    [Test]
    public async Task SignerIsTheAuthenticationCertificate_InvalidSignerCertificate()
    {
        using var authKey = _node.Authentication.GetECDsaPrivateKey()!;
        var head = await _node.SignAsync(_registry, TreeHeadBytes(NodeA.ToString(), 10, Root(1)), key: authKey, signer: _node.Authentication);

        await AssertRefusedAsync(head, RegistryErrors.InvalidSignerCertificate, StatusCode.PermissionDenied);
    }

    [Test]
    public async Task RevokedSigningCertificate_SignerCertificateRevoked()
    {
        await new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = _node.Signing.SerialNumber, Reason = "keyCompromise" }).ResponseAsync;

        await AssertRefusedAsync(await _node.HeadAsync(_registry, 10, Root(1)), RegistryErrors.SignerCertificateRevoked, StatusCode.PermissionDenied);
    }

    [Test]
    public async Task TokenOverOtherBytes_InvalidTimeStamp()
    {
        var head = await _node.HeadAsync(_registry, 10, Root(1));
        head.TimeStampToken = ByteString.CopyFrom(await TestNode.TimeStampAsync(_registry, SHA256.HashData(TreeHeadBytes(NodeA.ToString(), 11, Root(1)).Span)));

        await AssertRefusedAsync(head, RegistryErrors.InvalidTimeStamp, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task TokenNotFromTheRegistryTsa_InvalidTimeStamp()
    {
        var head = await _node.HeadAsync(_registry, 10, Root(1));
        head.TimeStampToken = ByteString.CopyFrom(0x30, 0x03, 0x02, 0x01, 0x00);

        await AssertRefusedAsync(head, RegistryErrors.InvalidTimeStamp, StatusCode.InvalidArgument);
    }

    [Test]
    public async Task GetNodeTreeHeads_NodeOrAnonymousCaller_NotAuditor()
    {
        using var anonymous = _registry.Channel(null);
        var request = new GetNodeTreeHeadsRequest { Node = NodeA.ToString() };

        var unauthenticated = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(anonymous).GetNodeTreeHeadsAsync(request).ResponseAsync);
        var node = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(_channel).GetNodeTreeHeadsAsync(request).ResponseAsync);
        using var admin = _registry.AdminChannel();
        var administrator = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(admin).GetNodeTreeHeadsAsync(request).ResponseAsync);

        Assert.That((unauthenticated!.StatusCode, unauthenticated.ErrorCode), Is.EqualTo((StatusCode.Unauthenticated, RegistryErrors.NotAuditor)));
        Assert.That((node!.StatusCode, node.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.NotAuditor)));
        Assert.That((administrator!.StatusCode, administrator.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.NotAuditor)));
    }

    [Test]
    public async Task GetNodeTreeHeads_RevokedAuditor_Refused()
    {
        using var auditor = await TestAuditors.IssueAsync(_admin, string.Empty, "An");
        await new RegistryManagement.RegistryManagementClient(_admin).RevokeCertificateAsync(new RevokeCertificateRequest { SerialNumber = auditor.SerialNumber }).ResponseAsync;
        using var channel = _registry.Channel(auditor);

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(channel).GetNodeTreeHeadsAsync(new GetNodeTreeHeadsRequest { Node = NodeA.ToString() }).ResponseAsync);

        Assert.That((ex!.StatusCode, ex.ErrorCode), Is.EqualTo((StatusCode.PermissionDenied, RegistryErrors.CertificateRevoked)));
    }

    [Test]
    public async Task GetNodeTreeHeads_BadNodeIdentifier_InvalidIdentifier()
    {
        using var auditor = await TestAuditors.IssueAsync(_admin, string.Empty, "An");
        using var channel = _registry.Channel(auditor);

        var ex = await Assert.ThrowsAsync<RpcException>(() => new RegistryService.RegistryServiceClient(channel).GetNodeTreeHeadsAsync(new GetNodeTreeHeadsRequest { Node = "VN/GOV" }).ResponseAsync);

        Assert.That((ex!.StatusCode, ex.ErrorCode), Is.EqualTo((StatusCode.InvalidArgument, RegistryErrors.InvalidIdentifier)));
    }

    private Task<SubmitTreeHeadResponse> SubmitAsync(SignedTreeHead head, ulong previousSize = 0) =>
        new RegistryService.RegistryServiceClient(_channel).SubmitTreeHeadAsync(new SubmitTreeHeadRequest { Head = head, PreviousSize = previousSize }).ResponseAsync;

    private async Task AssertRefusedAsync(SignedTreeHead head, string code, StatusCode status, ulong previousSize = 0)
    {
        var before = _registry.Store.ReadTreeHeads(NodeA, 0, 1000);

        var ex = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(head, previousSize));

        Assert.That(ex!.ErrorCode, Is.EqualTo(code), ex.Status.Detail);
        Assert.That(ex.StatusCode, Is.EqualTo(status));
        Assert.That(ex.CorrelationId, Is.Not.Empty);
        Assert.That(_registry.Store.ReadTreeHeads(NodeA, 0, 1000), Is.EqualTo(before));
    }

    private static ByteString TreeHeadBytes(string node, ulong size, byte[] root) =>
        new TreeHead { Node = node, TreeSize = size, RootHash = ByteString.CopyFrom(root), CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }.ToByteString();

    private static byte[] Root(byte seed) => SHA256.HashData([seed]);

    private static long Size(SignedTreeHead head) => (long)TreeHead.Parser.ParseFrom(head.TreeHead).TreeSize;
}
