// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExchangeBus.Benchmarks;

/// <summary>
/// The registry's trust services, one request at a time: a time-stamp token issued for a
/// prepared TimeStampReq (parse, BouncyCastle token generation, .NET ECDSA signature, encoding),
/// against the baseline of the bare .NET ECDSA P-256 signature of the same 32-byte hash; an OCSP
/// response for one certificate; and a node verifying a token.
/// Run: <c>dotnet run -c Release --project tests/ExchangeBus.Benchmarks -- --filter '*TimeStamp*' --job short</c>.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet generates a class deriving from it.</remarks>
[MemoryDiagnoser]
[MedianColumn]
[OperationsPerSecond]
public class TimeStampBenchmarks
{
    private const int ParallelBatch = 512;

    private readonly byte[] hash = SHA256.HashData("a Merkle tree head"u8);

    private CertificateAuthority ca = null!;
    private ECDsa baselineKey = null!;
    private TimeStampAuthority tsa = null!;
    private OcspResponder responder = null!;
    private TimeStampTokenVerifier verifier = null!;
    private X509Certificate2 member = null!;
    private byte[] timeStampRequest = null!;
    private byte[] ocspRequest = null!;
    private byte[] token = null!;

    [GlobalSetup]
    public void SetUp()
    {
        var clock = TimeProvider.System;
        ca = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Bench", "Root CA"), clock);
        var (tsaCertificate, tsaKey) = Issue(CertificateProfile.TimeStamping, "TSA");
        var (ocspCertificate, ocspKey) = Issue(CertificateProfile.OcspSigning, "OCSP Responder");
        (member, var memberKey) = Issue(CertificateProfile.MemberSigning, "MEMBER");
        memberKey.Dispose();

        baselineKey = EcKeys.GenerateP256();
        tsa = new TimeStampAuthority(tsaCertificate, tsaKey, clock, NullLogger<TimeStampAuthority>.Instance);
        var statuses = new InMemoryCertificateStatusSource();
        statuses.SetGood(member);
        responder = new OcspResponder(ca.Certificate, ocspCertificate, ocspKey, statuses, clock, NullLogger<OcspResponder>.Instance);
        verifier = new TimeStampTokenVerifier([tsaCertificate], [ca.Certificate], clock);

        // What a node sends: a SHA-256 imprint, a 64-bit nonce, certReq; and a 32-byte-nonce OCSP request.
        timeStampRequest = Rfc3161TimestampRequest.CreateFromHash(
            hash, HashAlgorithmName.SHA256, nonce: RandomNumberGenerator.GetBytes(8), requestSignerCertificates: true).Encode();
        ocspRequest = OcspClient.CreateRequest(member, ca.Certificate, RandomNumberGenerator.GetBytes(OcspClient.NonceBytes));
        TimeStampResponse.TryDecode(tsa.Respond(timeStampRequest), out var response);
        token = response!.Token!.Value.ToArray();
        if (!verifier.VerifyTokenForHash(token, hash).IsValid)
        {
            throw new InvalidOperationException("The prepared token does not verify.");
        }

        tsaCertificate.Dispose();
        ocspCertificate.Dispose();
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        verifier.Dispose();
        responder.Dispose();
        tsa.Dispose();
        baselineKey.Dispose();
        member.Dispose();
        ca.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ECDSA P-256 sign (.NET, baseline)")]
    public byte[] EcdsaSign() => baselineKey.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence);

    [Benchmark(Description = "TSA Respond (token issued)")]
    public byte[] IssueToken() => tsa.Respond(timeStampRequest);

    /// <summary>Both cores busy: the signing key's lock and the allocations show here, if anywhere.</summary>
    [Benchmark(Description = "TSA Respond, 2 threads (per token)", OperationsPerInvoke = ParallelBatch)]
    public void IssueTokensInParallel() => Parallel.For(0, ParallelBatch, _ => tsa.Respond(timeStampRequest));

    [Benchmark(Description = "OCSP Respond (one certificate)")]
    public byte[] OcspRespond() => responder.Respond(ocspRequest);

    [Benchmark(Description = "Verify token (node side)")]
    public bool VerifyToken() => verifier.VerifyTokenForHash(token, hash).IsValid;

    private (X509Certificate2 Certificate, ECDsa Key) Issue(CertificateProfile profile, string name)
    {
        var key = EcKeys.GenerateP256();
        var certificate = ca.Issue(new CertificateIssueRequest
        {
            Subject = CertificateNames.CentralService("DEV", "Bench", name),
            PublicKey = new PublicKey(key),
            Profile = profile,
        });
        return (certificate, key);
    }
}
