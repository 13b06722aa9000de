// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Core.TrustServices;
using Grpc.Net.Client;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Registry.Tests.Infrastructure;

/// <summary>
/// A node registered with the fixture's registry the way a real one is (CSRs, approval), holding
/// its authentication certificate for mutual TLS and its member's signing key for tree heads.
/// </summary>
internal sealed class TestNode : IDisposable
{
    private TestNode(NodeId id, X509Certificate2 authentication, X509Certificate2 signing, ECDsa signingKey)
    {
        Id = id;
        Authentication = authentication;
        Signing = signing;
        SigningKey = signingKey;
    }

    public NodeId Id { get; }

    /// <summary>With its private key, for TLS.</summary>
    public X509Certificate2 Authentication { get; }

    public X509Certificate2 Signing { get; }

    public ECDsa SigningKey { get; }

    /// <summary>Each node at an address of its own: the registry refuses one another node has (Registry.AddressInUse).</summary>
    private static int _nextPort = 20_000;

    public static async Task<TestNode> RegisterAsync(RegistryFixture registry, GrpcChannel admin, NodeId id)
    {
        using var authKey = EcKeys.GenerateP256();
        var signingKey = EcKeys.GenerateP256();
        using var anonymous = registry.Channel(null);
        var pending = await new RegistryService.RegistryServiceClient(anonymous).SubmitRegistrationAsync(NodeRegistration.Create(id, $"127.0.0.1:{Interlocked.Increment(ref _nextPort)}", authKey, signingKey)).ResponseAsync;
        var approved = await new RegistryManagement.RegistryManagementClient(admin).ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = pending.RegistrationId }).ResponseAsync;
        using var auth = X509CertificateLoader.LoadCertificate(approved.AuthCertificate.Span);
        return new TestNode(id, auth.CopyWithPrivateKey(authKey), X509CertificateLoader.LoadCertificate(approved.SigningCertificate.Span), signingKey);
    }

    public GrpcChannel Channel(RegistryFixture registry) => registry.Channel(Authentication);

    /// <summary>A head as a node makes it: the TreeHead bytes, signed, and time-stamped by the registry's TSA.</summary>
    public Task<SignedTreeHead> HeadAsync(RegistryFixture registry, long size, byte[] root) =>
        SignAsync(registry, new TreeHead { Node = Id.ToString(), TreeSize = (ulong)size, RootHash = ByteString.CopyFrom(root), CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }.ToByteString());

    public async Task<SignedTreeHead> SignAsync(RegistryFixture registry, ByteString treeHead, ECDsa? key = null, X509Certificate2? signer = null) => new()
    {
        TreeHead = treeHead,
        Signature = ByteString.CopyFrom((key ?? SigningKey).SignData(treeHead.Span, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
        SignerCertificate = ByteString.CopyFrom((signer ?? Signing).RawData),
        TimeStampToken = ByteString.CopyFrom(await TimeStampAsync(registry, SHA256.HashData(treeHead.Span))),
    };

    /// <summary>A token from the registry's own /tsa endpoint, over HTTP, as a node gets one.</summary>
    public static async Task<byte[]> TimeStampAsync(RegistryFixture registry, byte[] sha256)
    {
        using var http = new HttpClient();
        using var verifier = new TimeStampTokenVerifier([registry.Server.Keys.TimeStamping], [], TimeProvider.System);
        var result = await new TimeStampClient(http, new Uri(registry.Server.HttpAddress + "/tsa"), verifier).RequestAsync(sha256);
        Assert.That(result.IsValid, Is.True, result.ToString());
        return result.Token.ToArray();
    }

    public void Dispose()
    {
        Authentication.Dispose();
        Signing.Dispose();
        SigningKey.Dispose();
    }
}

/// <summary>Auditor certificates issued by the registry through its management API.</summary>
internal static class TestAuditors
{
    /// <summary>Issues a certificate for a new key; <paramref name="member"/> empty for a national auditor. The result carries the key.</summary>
    public static async Task<X509Certificate2> IssueAsync(GrpcChannel admin, string member, string name)
    {
        using var key = EcKeys.GenerateP256();
        var csr = CertificateSigningRequests.Create(new X500DistinguishedName("CN=whatever the auditor typed"), key);
        var response = await new RegistryManagement.RegistryManagementClient(admin).IssueAuditorCertificateAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFrom(csr), Member = member, Name = name }).ResponseAsync;
        using var certificate = X509CertificateLoader.LoadCertificate(response.Certificate.Span);
        return certificate.CopyWithPrivateKey(key);
    }
}
