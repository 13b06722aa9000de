// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// Issues certificates with a P-256 key it holds. Every certificate gets a random positive
/// 126-bit serial number, subject and authority key identifiers, critical basic constraints and
/// key usage, and a validity taken from the injected <see cref="TimeProvider"/> that never
/// outlasts the authority's own certificate.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>Tolerates small clock differences between the authority and relying parties.</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    /// <summary>Default lifetime of a root created by <see cref="CreateRoot"/>.</summary>
    public static readonly TimeSpan DefaultRootValidity = TimeSpan.FromDays(10 * 365);

    private readonly ECDsa key;
    private readonly TimeProvider timeProvider;

    private CertificateAuthority(X509Certificate2 certificate, ECDsa key, TimeProvider timeProvider)
    {
        Certificate = certificate;
        this.key = key;
        this.timeProvider = timeProvider;
    }

    /// <summary>The authority's certificate (without its private key).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Creates a self-signed root with a new P-256 key.</summary>
    public static CertificateAuthority CreateRoot(
        X500DistinguishedName subject, TimeProvider timeProvider, TimeSpan? validity = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var rootKey = EcKeys.GenerateP256();
        try
        {
            var request = new CertificateRequest(subject, rootKey, HashAlgorithmName.SHA256);

            // No path length limit, so an instance may later add intermediates.
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
            request.CertificateExtensions.Add(
                new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
            var subjectKeyId = new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false);
            request.CertificateExtensions.Add(subjectKeyId);
            request.CertificateExtensions.Add(
                X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyId));

            var now = timeProvider.GetUtcNow();
            var certificate = request.Create(
                subject,
                X509SignatureGenerator.CreateForECDsa(rootKey),
                now - Backdate,
                now + (validity ?? DefaultRootValidity),
                NewSerialNumber());
            return new CertificateAuthority(certificate, rootKey, timeProvider);
        }
        catch
        {
            rootKey.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An authority from its certificate and private key. Takes ownership of <paramref name="privateKey"/>.
    /// </summary>
    /// <exception cref="PkiException">The certificate is not a CA certificate or the key does not match it.</exception>
    public static CertificateAuthority FromCertificateAndKey(
        X509Certificate2 certificate, ECDsa privateKey, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(timeProvider);

        var basic = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (basic is not { CertificateAuthority: true }
            || (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign)))
        {
            throw new PkiException(
                PkiErrors.IssueNotACertificateAuthority,
                $"'{certificate.Subject}' is not a CA certificate (basicConstraints CA and keyCertSign are required).");
        }

        // RFC 5280 §4.2.1.2: CA certificates MUST have one; issued certificates point at it.
        if (!certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any())
        {
            throw new PkiException(
                PkiErrors.IssueNotACertificateAuthority,
                $"CA certificate '{certificate.Subject}' has no subject key identifier.");
        }

        var keyError = EcKeys.CheckP256(certificate.PublicKey);
        if (keyError is not null)
        {
            throw new PkiException(keyError.Code, keyError.Message);
        }

        if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(privateKey.ExportSubjectPublicKeyInfo()))
        {
            throw new PkiException(PkiErrors.KeyMismatch, "The private key does not belong to the CA certificate.");
        }

        // Keep a copy without any private key attached, so Certificate can be handed out freely.
        var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        return new CertificateAuthority(publicOnly, privateKey, timeProvider);
    }

    /// <summary>Loads an authority from a certificate PEM file and a PKCS#8 key PEM file (0600).</summary>
    /// <exception cref="PkiException">With a code from <see cref="PkiErrors"/>.</exception>
    public static CertificateAuthority Load(string certificatePath, string privateKeyPath, TimeProvider timeProvider)
    {
        using var certificate = PemFiles.ReadCertificate(certificatePath);
        var privateKey = PemFiles.ReadPrivateKey(privateKeyPath);
        try
        {
            return FromCertificateAndKey(certificate, privateKey, timeProvider);
        }
        catch
        {
            privateKey.Dispose();
            throw;
        }
    }

    /// <summary>Writes the certificate (0644) and private key (0600) atomically.</summary>
    public void Save(string certificatePath, string privateKeyPath, bool overwrite = false)
    {
        PemFiles.WritePrivateKey(privateKeyPath, key, overwrite);
        PemFiles.WriteCertificate(certificatePath, Certificate, overwrite);
    }

    /// <summary>Issues a certificate for a verified CSR under <paramref name="profile"/>.</summary>
    public X509Certificate2 Issue(ParsedCsr csr, CertificateProfile profile) =>
        Issue(CertificateIssueRequest.FromCsr(csr, profile));

    /// <summary>Issues a certificate. The result carries no private key.</summary>
    /// <exception cref="PkiException">The request does not fit its profile or the authority has expired.</exception>
    public X509Certificate2 Issue(CertificateIssueRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var profile = ProfileDefinition.For(request.Profile);
        var keyError = EcKeys.CheckP256(request.PublicKey);
        if (keyError is not null)
        {
            throw new PkiException(keyError.Code, keyError.Message);
        }

        var hasNames = request.DnsNames.Count > 0 || request.IpAddresses.Count > 0;
        if (profile.RequiresSubjectAlternativeNames && !hasNames)
        {
            throw new PkiException(
                PkiErrors.IssueMissingSubjectAlternativeName,
                $"Profile {request.Profile} needs at least one DNS name or IP address.");
        }

        if (!profile.AllowsSubjectAlternativeNames && hasNames)
        {
            throw new PkiException(
                PkiErrors.IssueUnexpectedSubjectAlternativeName,
                $"Profile {request.Profile} does not carry DNS names or IP addresses.");
        }

        foreach (var dns in request.DnsNames)
        {
            // Host names only: no wildcards, no URLs, nothing a TLS client would not match exactly.
            if (Uri.CheckHostName(dns) != UriHostNameType.Dns || dns.Length > 253)
            {
                throw new PkiException(PkiErrors.IssueInvalidName, $"'{dns}' is not a DNS host name.");
            }
        }

        var (notBefore, notAfter) = ValidityFor(request.Validity ?? profile.DefaultValidity);

        var builder = new CertificateRequest(request.Subject, request.PublicKey, HashAlgorithmName.SHA256);
        foreach (var extension in profile.CreateExtensions())
        {
            builder.CertificateExtensions.Add(extension);
        }

        builder.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        builder.CertificateExtensions.Add(
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
                Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (hasNames)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var dns in request.DnsNames)
            {
                names.AddDnsName(dns);
            }

            foreach (var address in request.IpAddresses)
            {
                names.AddIpAddress(address);
            }

            // Not critical: the subject DN is not empty (RFC 5280 §4.2.1.6).
            builder.CertificateExtensions.Add(names.Build(critical: false));
        }

        return builder.Create(
            Certificate.SubjectName,
            X509SignatureGenerator.CreateForECDsa(key),
            notBefore,
            notAfter,
            NewSerialNumber());
    }

    /// <summary>Creates a subordinate CA (path length 0) with a new P-256 key.</summary>
    public CertificateAuthority CreateIntermediate(X500DistinguishedName subject, TimeSpan? validity = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var intermediateKey = EcKeys.GenerateP256();
        try
        {
            var certificate = Issue(new CertificateIssueRequest
            {
                Subject = subject,
                PublicKey = new PublicKey(intermediateKey),
                Profile = CertificateProfile.IntermediateCa,
                Validity = validity,
            });
            return new CertificateAuthority(certificate, intermediateKey, timeProvider);
        }
        catch
        {
            intermediateKey.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        key.Dispose();
        Certificate.Dispose();
    }

    /// <summary>
    /// 16 random bytes with the top bit cleared (positive) and the next bit set (so DER needs no
    /// leading zero and the length is always 16): 126 random bits, well over RFC 5280's and the
    /// CA/Browser Forum's 64.
    /// </summary>
    internal static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    private (DateTimeOffset NotBefore, DateTimeOffset NotAfter) ValidityFor(TimeSpan validity)
    {
        if (validity <= TimeSpan.Zero)
        {
            throw new PkiException(PkiErrors.IssueInvalidValidity, $"Validity must be positive, not {validity}.");
        }

        var now = timeProvider.GetUtcNow();
        var issuerNotBefore = new DateTimeOffset(Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var issuerNotAfter = new DateTimeOffset(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (now >= issuerNotAfter || now < issuerNotBefore)
        {
            throw new PkiException(
                PkiErrors.IssueAuthorityExpired,
                $"The authority's certificate is valid {issuerNotBefore:O} to {issuerNotAfter:O}; it cannot issue at {now:O}.");
        }

        // A certificate outliving its issuer would fail chain validation at the end anyway.
        var notBefore = Max(now - Backdate, issuerNotBefore);
        var notAfter = validity >= issuerNotAfter - now ? issuerNotAfter : now + validity;
        return (notBefore, notAfter);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
