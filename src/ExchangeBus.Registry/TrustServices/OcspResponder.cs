// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;
using BcCertificateStatus = Org.BouncyCastle.Ocsp.CertificateStatus;
using OcspResponseStatus = ExchangeBus.Core.TrustServices.OcspResponseStatus;

namespace ExchangeBus.Registry.TrustServices;

/// <summary>How the <see cref="OcspResponder"/> answers.</summary>
public sealed record OcspResponderOptions
{
    /// <summary>nextUpdate = thisUpdate + this: with X-Road's 1200 s refresh a node always holds a current response.</summary>
    public static readonly TimeSpan DefaultNextUpdateWindow = TimeSpan.FromHours(1);

    /// <summary>A request for one certificate with a nonce is about 120 bytes; 16 KiB is generous.</summary>
    public const int DefaultMaxRequestBytes = 16 * 1024;

    /// <summary>Nodes ask about one or two certificates; more per request only multiplies the work.</summary>
    public const int DefaultMaxCertificatesPerRequest = 32;

    public TimeSpan NextUpdateWindow { get; init; } = DefaultNextUpdateWindow;

    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    public int MaxCertificatesPerRequest { get; init; } = DefaultMaxCertificatesPerRequest;
}

/// <summary>
/// An RFC 6960 OCSP responder for one CA: turns a DER OCSPRequest into a DER OCSPResponse, and
/// always answers with one, never an exception. Each CertID (SHA-1 or SHA-2) naming our CA gets
/// good or revoked from the <see cref="ICertificateStatusSource"/>, or unknown when the CA never
/// issued that serial number; a CertID naming another issuer gets unknown. The nonce is echoed;
/// the BasicOCSPResponse is signed (ECDSA P-256 / SHA-256) by the responder certificate, which is
/// included, and identified by key hash; thisUpdate = producedAt = now, nextUpdate = now + window.
/// A request that does not decode gets malformedRequest; any internal failure gets internalError.
/// </summary>
/// <remarks>Thread-safe: one instance serves concurrent requests.</remarks>
public sealed class OcspResponder : IDisposable
{
    private const string OcspSigningOid = "1.3.6.1.5.5.7.3.9";

    private static readonly HashAlgorithmName[] CertificateIdHashes =
        [HashAlgorithmName.SHA1, HashAlgorithmName.SHA256, HashAlgorithmName.SHA384, HashAlgorithmName.SHA512];

    private readonly ECDsa key;
    private readonly ICertificateStatusSource statusSource;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<OcspResponder> logger;
    private readonly OcspResponderOptions options;
    private readonly Dictionary<HashAlgorithmName, (byte[] NameHash, byte[] KeyHash)> issuerHashes = [];
    private readonly RespID responderId;
    private readonly BcCertificate[] includedCertificates;
    private readonly EcdsaSignatureFactory signatureFactory;

    /// <summary>The subject of the certificate the responses are signed with (the dashboard shows it).</summary>
    public string ResponderSubject { get; }

    /// <summary>When that certificate expires: past it, nodes refuse every answer.</summary>
    public DateTimeOffset ResponderNotAfter { get; }

    /// <summary>
    /// A responder for <paramref name="caCertificate"/>, signing with <paramref name="responderKey"/>:
    /// either the CA's own key (<paramref name="responderCertificate"/> is then the CA certificate)
    /// or the key of an OCSPSigning certificate the CA issued. Takes ownership of <paramref name="responderKey"/>.
    /// </summary>
    /// <exception cref="PkiException">The responder certificate is not the CA nor delegated by it, or the key does not match it.</exception>
    public OcspResponder(
        X509Certificate2 caCertificate,
        X509Certificate2 responderCertificate,
        ECDsa responderKey,
        ICertificateStatusSource statusSource,
        TimeProvider timeProvider,
        ILogger<OcspResponder> logger,
        OcspResponderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(caCertificate);
        ArgumentNullException.ThrowIfNull(responderCertificate);
        ArgumentNullException.ThrowIfNull(responderKey);
        ArgumentNullException.ThrowIfNull(statusSource);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        this.options = options ?? new OcspResponderOptions();
        if (this.options.NextUpdateWindow <= TimeSpan.Zero || this.options.MaxRequestBytes <= 0 || this.options.MaxCertificatesPerRequest <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The window and the limits must be positive.");
        }

        ResponderSubject = responderCertificate.Subject;
        ResponderNotAfter = CertificateExpiry.NotAfter(responderCertificate);
        var delegated = !caCertificate.RawData.AsSpan().SequenceEqual(responderCertificate.RawData);
        var parser = new X509CertificateParser();
        var bcResponder = parser.ReadCertificate(responderCertificate.RawData);
        if (delegated)
        {
            // BouncyCastle checks the CA's signature over, and puts into responses, its DER
            // re-encoding of the certificate: for a certificate not in DER, neither would be the
            // bytes the CA signed.
            if (!bcResponder.GetEncoded().AsSpan().SequenceEqual(responderCertificate.RawData))
            {
                throw new PkiException(PkiErrors.CertificateMalformed, $"'{responderCertificate.Subject}' is not DER-encoded.");
            }

            CheckDelegation(caCertificate, responderCertificate, bcResponder, parser.ReadCertificate(caCertificate.RawData));
        }

        if (!responderCertificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(responderKey.ExportSubjectPublicKeyInfo()))
        {
            throw new PkiException(PkiErrors.KeyMismatch, "The private key does not belong to the OCSP responder certificate.");
        }

        CaCertificate = X509CertificateLoader.LoadCertificate(caCertificate.RawData);
        ResponderCertificate = X509CertificateLoader.LoadCertificate(responderCertificate.RawData);
        key = responderKey;
        this.statusSource = statusSource;
        this.timeProvider = timeProvider;
        this.logger = logger;

        // CertIDs name the issuer by hashes of its subject DN and of its public key's BIT STRING value.
        foreach (var hash in CertificateIdHashes)
        {
            issuerHashes[hash] = (
                TrustServiceAlgorithms.Hash(hash, CaCertificate.SubjectName.RawData),
                TrustServiceAlgorithms.Hash(hash, CaCertificate.PublicKey.EncodedKeyValue.RawData));
        }

        responderId = new RespID(new ResponderID(new DerOctetString(SHA1.HashData(ResponderCertificate.PublicKey.EncodedKeyValue.RawData))));
        includedCertificates = delegated ? [bcResponder] : [];
        signatureFactory = new EcdsaSignatureFactory(key);
    }

    public X509Certificate2 CaCertificate { get; }

    public X509Certificate2 ResponderCertificate { get; }

    /// <summary>Requests over this many bytes are refused unread.</summary>
    public int MaxRequestBytes => options.MaxRequestBytes;

    /// <summary>
    /// Loads a delegated responder from PEM files: the CA certificate, the responder certificate
    /// and its PKCS#8 key (0600), such as root-ca.pem, ocsp.pem and ocsp.key.pem.
    /// </summary>
    /// <exception cref="PkiException">With a code from <see cref="PkiErrors"/>.</exception>
    public static OcspResponder Load(
        string caCertificatePath,
        string responderCertificatePath,
        string responderKeyPath,
        ICertificateStatusSource statusSource,
        TimeProvider timeProvider,
        ILogger<OcspResponder> logger,
        OcspResponderOptions? options = null)
    {
        using var ca = PemFiles.ReadCertificate(caCertificatePath);
        using var responder = PemFiles.ReadCertificate(responderCertificatePath);
        var responderKey = PemFiles.ReadPrivateKey(responderKeyPath);
        try
        {
            return new OcspResponder(ca, responder, responderKey, statusSource, timeProvider, logger, options);
        }
        catch
        {
            responderKey.Dispose();
            throw;
        }
    }

    /// <summary>Answers a DER OCSPRequest with a DER OCSPResponse. Never throws.</summary>
    public byte[] Respond(ReadOnlySpan<byte> request)
    {
        try
        {
            if (request.IsEmpty || request.Length > options.MaxRequestBytes)
            {
                return Malformed($"a request of {request.Length} bytes (1 to {options.MaxRequestBytes} are accepted)");
            }

            if (!OcspRequestReader.TryRead(request.ToArray(), options.MaxCertificatesPerRequest, out var parsed, out var problem))
            {
                return Malformed(problem);
            }

            return Answer(parsed);
        }
#pragma warning disable CA1031 // Whatever fails inside (the status store included), the client gets internalError.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrustServicesLog.OcspFailed(logger, ex);
            return StatusOnly(OcspResponseStatus.InternalError);
        }
    }

    /// <summary>The answer to a request refused for its size before it was read (the HTTP endpoint uses it).</summary>
    public byte[] RefuseOversized() => Malformed($"a request over {options.MaxRequestBytes} bytes");

    public void Dispose()
    {
        key.Dispose();
        CaCertificate.Dispose();
        ResponderCertificate.Dispose();
    }

    /// <summary>An OCSPResponse with a status and no responseBytes (RFC 6960 §4.2.1: for every status but successful).</summary>
    internal static byte[] StatusOnly(OcspResponseStatus status)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEnumeratedValue(status);
        }

        return writer.Encode();
    }

    private static void CheckDelegation(
        X509Certificate2 ca, X509Certificate2 responder, BcCertificate bcResponder, BcCertificate bcCa)
    {
        // RFC 6960 §4.2.2.2: a delegated responder's certificate is issued directly by the CA
        // and carries id-kp-OCSPSigning. Checked here so a wrong file fails at start-up, not in
        // every relying party.
        var usage = responder.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usage is null || !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => string.Equals(o.Value, OcspSigningOid, StringComparison.Ordinal)))
        {
            throw new PkiException(
                PkiErrors.CertificateWrongUsage, $"'{responder.Subject}' lacks the OCSPSigning extended key usage.");
        }

        var issuedByCa = responder.IssuerName.RawData.AsSpan().SequenceEqual(ca.SubjectName.RawData);
        if (issuedByCa)
        {
            try
            {
                bcResponder.Verify(bcCa.GetPublicKey());
            }
#pragma warning disable CA1031 // BouncyCastle reports a bad signature with several exception types.
            catch (Exception)
#pragma warning restore CA1031
            {
                issuedByCa = false;
            }
        }

        if (!issuedByCa)
        {
            throw new PkiException(
                PkiErrors.CertificateUntrustedRoot, $"'{responder.Subject}' was not issued by the CA '{ca.Subject}'.");
        }

        var keyError = EcKeys.CheckP256(responder.PublicKey);
        if (keyError is not null)
        {
            throw new PkiException(keyError.Code, keyError.Message);
        }
    }

    private byte[] Answer(OcspRequestInfo request)
    {
        // Whole seconds: GeneralizedTime in OCSP carries no fractions, and thisUpdate should not
        // claim more precision than the encoding keeps.
        var now = timeProvider.GetUtcNow();
        var thisUpdate = new DateTime(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        var nextUpdate = thisUpdate + options.NextUpdateWindow;

        var generator = new BasicOcspRespGenerator(responderId);
        foreach (var id in request.CertificateIds)
        {
            generator.AddResponse(EchoOf(id), StatusOf(id), thisUpdate, nextUpdate, null);
        }

        if (request.NonceExtensionValue is { } nonce)
        {
            var extensions = new X509ExtensionsGenerator();
            extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, nonce);
            generator.SetResponseExtensions(extensions.Generate());
        }

        var basic = generator.Generate(signatureFactory, includedCertificates, thisUpdate);
        var encoded = new OCSPRespGenerator().Generate(OCSPRespGenerator.Successful, basic).GetEncoded();
        TrustServicesLog.OcspAnswered(logger, request.CertificateIds.Count);
        return encoded;
    }

    /// <summary>The request's CertID, unchanged: clients match the response on it.</summary>
    private static CertificateID EchoOf(OcspCertificateId id) => new(new CertID(
        AlgorithmIdentifier.GetInstance(Asn1Object.FromByteArray(id.HashAlgorithm)),
        new DerOctetString(id.IssuerNameHash),
        new DerOctetString(id.IssuerKeyHash),
        new DerInteger(new BcBigInteger(id.SerialNumber))));

    private BcCertificateStatus? StatusOf(OcspCertificateId id)
    {
        var hash = TrustServiceAlgorithms.ForCertificateId(id.HashAlgorithmOid);
        if (hash is null
            || !CryptographicOperations.FixedTimeEquals(id.IssuerNameHash, issuerHashes[hash.Value].NameHash)
            || !CryptographicOperations.FixedTimeEquals(id.IssuerKeyHash, issuerHashes[hash.Value].KeyHash))
        {
            // Another issuer, or a hash we cannot compare: not ours to answer.
            return new UnknownStatus();
        }

        var status = statusSource.Find(CertificateStatusInfo.NormaliseSerialNumber(Convert.ToHexString(id.SerialNumber)));
        if (status is null)
        {
            return new UnknownStatus();
        }

        if (status.Status != OcspCertificateStatus.Revoked)
        {
            // BouncyCastle's CertificateStatus.Good is null.
            return BcCertificateStatus.Good;
        }

        var revokedAt = (status.RevokedAt ?? DateTimeOffset.UnixEpoch).UtcDateTime;
        revokedAt = new DateTime(revokedAt.Ticks - (revokedAt.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        return new RevokedStatus(new RevokedInfo(
            new DerGeneralizedTime(revokedAt),
            status.Reason is { } reason ? new CrlReason((int)reason) : null));
    }

    private byte[] Malformed(string reason)
    {
        TrustServicesLog.OcspMalformed(logger, reason);
        return StatusOnly(OcspResponseStatus.MalformedRequest);
    }
}
