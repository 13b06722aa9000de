// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Tsp;
using Org.BouncyCastle.Utilities.Collections;
using Org.BouncyCastle.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using TimeStampResponse = ExchangeBus.Core.TrustServices.TimeStampResponse;

namespace ExchangeBus.Registry.TrustServices;

/// <summary>How the <see cref="TimeStampAuthority"/> issues tokens.</summary>
public sealed record TimeStampAuthorityOptions
{
    /// <summary>
    /// A placeholder under a private enterprise arc that is not ours (99999 is not assigned to
    /// this project); replace it with an OID under the operator's own arc before production.
    /// </summary>
    public const string PlaceholderPolicyOid = "1.3.6.1.4.1.99999.1.1";

    /// <summary>A TimeStampReq with a SHA-512 imprint and a nonce is about 100 bytes; 16 KiB is generous.</summary>
    public const int DefaultMaxRequestBytes = 16 * 1024;

    /// <summary>The TSA policy put in every token (TSTInfo.policy); a request for another policy is refused.</summary>
    public string PolicyOid { get; init; } = PlaceholderPolicyOid;

    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;
}

/// <summary>
/// An RFC 3161 time-stamping authority: turns a DER TimeStampReq into a DER TimeStampResp, and
/// always answers with one: a granted token, or a rejection with the PKIFailureInfo bit that
/// says why, never an exception. Requests are decoded with .NET's
/// <see cref="Rfc3161TimestampRequest"/> behind a size bound; tokens are made by BouncyCastle's
/// <see cref="TimeStampTokenGenerator"/> and signed with ECDSA P-256 / SHA-256 by the .NET key.
/// </summary>
/// <remarks>
/// Accepted: version 1, SHA-256/384/512 imprints of the right length, no reqPolicy or ours, no
/// extensions (RFC 3161 §2.4.1: an unrecognised extension is refused), a nonce of at most 64
/// bytes (echoed), certReq (the TSA certificate is included). genTime comes from the injected
/// <see cref="TimeProvider"/> to the millisecond; serial numbers are 126 random bits.
/// Thread-safe: one instance serves concurrent requests.
/// </remarks>
public sealed class TimeStampAuthority : IDisposable
{
    /// <summary>Nonces are 64-bit numbers in practice (RFC 3161 §2.4.1); a bigger one only inflates the token.</summary>
    public const int MaxNonceBytes = 64;

    private const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";

    private readonly ECDsa key;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<TimeStampAuthority> logger;
    private readonly TimeStampTokenGenerator generator;
    private readonly DateTimeOffset notBefore;
    private readonly DateTimeOffset notAfter;

    /// <summary>A TSA with its certificate and P-256 key. Takes ownership of <paramref name="privateKey"/>.</summary>
    /// <exception cref="PkiException">The certificate is not a TSA certificate (RFC 3161 §2.3) or the key does not match it.</exception>
    public TimeStampAuthority(
        X509Certificate2 certificate,
        ECDsa privateKey,
        TimeProvider timeProvider,
        ILogger<TimeStampAuthority> logger,
        TimeStampAuthorityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        options ??= new TimeStampAuthorityOptions();
        if (options.MaxRequestBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxRequestBytes, "MaxRequestBytes must be positive.");
        }

        CheckCertificateAndKey(certificate, privateKey);
        DerObjectIdentifier policy;
        try
        {
            policy = new DerObjectIdentifier(options.PolicyOid);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"'{options.PolicyOid}' is not an OID.", nameof(options), ex);
        }

        // A copy without the private key, so Certificate can be handed out freely.
        Certificate = X509CertificateLoader.LoadCertificate(certificate.RawData);
        PolicyOid = options.PolicyOid;
        MaxRequestBytes = options.MaxRequestBytes;
        key = privateKey;
        this.timeProvider = timeProvider;
        this.logger = logger;
        notBefore = new DateTimeOffset(Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        notAfter = new DateTimeOffset(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

        var bcCertificate = new X509CertificateParser().ReadCertificate(Certificate.RawData);
        var signer = new SignerInfoGeneratorBuilder()
            .WithSignedAttributeGenerator(new TokenSignedAttributes())
            .Build(new EcdsaSignatureFactory(key), bcCertificate);

        // SHA-256 here makes the generator add SigningCertificateV2 (ESSCertIDv2, RFC 5816)
        // rather than the SHA-1 ESSCertID.
        generator = new TimeStampTokenGenerator(
            signer, Asn1DigestFactory.Get(NistObjectIdentifiers.IdSha256), policy, isIssuerSerialIncluded: false)
        {
            Resolution = Resolution.R_MILLISECONDS,
        };
        generator.SetCertificates(CollectionUtilities.CreateStore(new[] { bcCertificate }));
    }

    /// <summary>The TSA certificate (without its private key).</summary>
    public X509Certificate2 Certificate { get; }

    public string PolicyOid { get; }

    /// <summary>Requests over this many bytes are refused unread.</summary>
    public int MaxRequestBytes { get; }

    /// <summary>Loads the TSA from a certificate PEM file and a PKCS#8 key PEM file (0600), such as tsa.pem and tsa.key.pem.</summary>
    /// <exception cref="PkiException">With a code from <see cref="PkiErrors"/>.</exception>
    public static TimeStampAuthority Load(
        string certificatePath,
        string privateKeyPath,
        TimeProvider timeProvider,
        ILogger<TimeStampAuthority> logger,
        TimeStampAuthorityOptions? options = null)
    {
        using var certificate = PemFiles.ReadCertificate(certificatePath);
        var privateKey = PemFiles.ReadPrivateKey(privateKeyPath);
        try
        {
            return new TimeStampAuthority(certificate, privateKey, timeProvider, logger, options);
        }
        catch
        {
            privateKey.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Answers a DER TimeStampReq with a DER TimeStampResp. Never throws: malformed, oversized or
    /// unacceptable requests get a rejection, and an internal failure gets systemFailure.
    /// </summary>
    public byte[] Respond(ReadOnlySpan<byte> request)
    {
        try
        {
            if (request.IsEmpty)
            {
                return Refuse(TimeStampFailureInfo.BadDataFormat, "The request is empty.");
            }

            if (request.Length > MaxRequestBytes)
            {
                return RefuseOversized();
            }

            if (!Rfc3161TimestampRequest.TryDecode(request.ToArray(), out var parsed, out var consumed) || consumed != request.Length)
            {
                return Refuse(TimeStampFailureInfo.BadDataFormat, "The request is not a DER TimeStampReq.");
            }

            var refusal = Check(parsed);
            return refusal ?? Issue(parsed);
        }
#pragma warning disable CA1031 // Whatever fails inside, the client gets a TimeStampResp, never a dropped connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrustServicesLog.TimeStampFailed(logger, ex);
            return TimeStampResponse.Rejection(TimeStampFailureInfo.SystemFailure, "The time-stamping service failed.").Encode();
        }
    }

    /// <summary>The answer to a request refused for its size before it was read (the HTTP endpoint uses it).</summary>
    public byte[] RefuseOversized() =>
        Refuse(TimeStampFailureInfo.BadRequest, $"The request is over {MaxRequestBytes} bytes.");

    public void Dispose()
    {
        key.Dispose();
        Certificate.Dispose();
    }

    private static void CheckCertificateAndKey(X509Certificate2 certificate, ECDsa privateKey)
    {
        // RFC 3161 §2.3: exactly one extended key usage, timeStamping, critical. BouncyCastle
        // checks this too, but with an exception that does not say which rule failed.
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToArray();
        if (usages.Length != 1
            || !usages[0].Critical
            || usages[0].EnhancedKeyUsages.Count != 1
            || !string.Equals(usages[0].EnhancedKeyUsages[0].Value, TimeStampingOid, StringComparison.Ordinal))
        {
            throw new PkiException(
                PkiErrors.CertificateWrongUsage,
                $"'{certificate.Subject}' is not a TSA certificate: timeStamping must be its only extended key usage, marked critical.");
        }

        var keyError = EcKeys.CheckP256(certificate.PublicKey);
        if (keyError is not null)
        {
            throw new PkiException(keyError.Code, keyError.Message);
        }

        if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(privateKey.ExportSubjectPublicKeyInfo()))
        {
            throw new PkiException(PkiErrors.KeyMismatch, "The private key does not belong to the TSA certificate.");
        }
    }

    private byte[]? Check(Rfc3161TimestampRequest request)
    {
        if (request.Version != 1)
        {
            return Refuse(TimeStampFailureInfo.BadRequest, $"Version {request.Version} is not supported; only version 1 is.");
        }

        var algorithm = request.HashAlgorithmId.Value;
        var hashName = TrustServiceAlgorithms.ForImprint(algorithm);
        if (hashName is null)
        {
            return Refuse(
                TimeStampFailureInfo.BadAlgorithm,
                $"{TrustServiceAlgorithms.Describe(algorithm)} imprints are not accepted; use SHA-256, SHA-384 or SHA-512.");
        }

        var expectedLength = TrustServiceAlgorithms.Hash(hashName.Value, []).Length;
        if (request.GetMessageHash().Length != expectedLength)
        {
            return Refuse(
                TimeStampFailureInfo.BadDataFormat,
                $"A {TrustServiceAlgorithms.Describe(algorithm)} imprint is {expectedLength} bytes, not {request.GetMessageHash().Length}.");
        }

        if (request.RequestedPolicyId is { } requested && !string.Equals(requested.Value, PolicyOid, StringComparison.Ordinal))
        {
            return Refuse(TimeStampFailureInfo.UnacceptedPolicy, $"Policy {requested.Value} is not offered; this TSA issues under {PolicyOid}.");
        }

        if (request.HasExtensions)
        {
            return Refuse(TimeStampFailureInfo.UnacceptedExtension, "Request extensions are not supported.");
        }

        if (request.GetNonce() is { Length: > MaxNonceBytes })
        {
            return Refuse(TimeStampFailureInfo.BadRequest, $"The nonce is over {MaxNonceBytes} bytes.");
        }

        var now = timeProvider.GetUtcNow();
        if (now < notBefore || now > notAfter)
        {
            TrustServicesLog.TsaCertificateNotValid(logger, notBefore, notAfter, now);
            return Refuse(TimeStampFailureInfo.SystemFailure, "The TSA certificate is not valid now.");
        }

        return null;
    }

    private byte[] Issue(Rfc3161TimestampRequest request)
    {
        // The request BouncyCastle sees is rebuilt from the fields .NET decoded and we checked,
        // so the old parser never reads client bytes.
        var builder = new TimeStampRequestGenerator();
        builder.SetCertReq(request.RequestSignerCertificate);
        var nonce = request.GetNonce();
        var bcRequest = nonce is { } value
            ? builder.Generate(request.HashAlgorithmId.Value!, request.GetMessageHash().ToArray(), new BcBigInteger(value.ToArray()))
            : builder.Generate(request.HashAlgorithmId.Value!, request.GetMessageHash().ToArray());

        var serial = NewSerialNumber();
        var token = generator.Generate(bcRequest, serial, timeProvider.GetUtcNow().UtcDateTime);
        var encoded = TimeStampResponse.Granted(token.GetEncoded()).Encode();
        if (logger.IsEnabled(LogLevel.Debug))
        {
            TrustServicesLog.TokenIssued(logger, serial.ToString(16), PolicyOid);
        }

        return encoded;
    }

    private byte[] Refuse(TimeStampFailureInfo failure, string reason)
    {
        TrustServicesLog.TimeStampRefused(logger, failure, reason);
        return TimeStampResponse.Rejection(failure, reason).Encode();
    }

    /// <summary>
    /// 16 random bytes, top bit cleared (positive) and the next set (fixed length): 126 random
    /// bits, so serial numbers are unique without any state shared between instances.
    /// </summary>
    private static BcBigInteger NewSerialNumber()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[0] = (byte)((bytes[0] & 0x7F) | 0x40);
        return new BcBigInteger(1, bytes.ToArray());
    }
}
