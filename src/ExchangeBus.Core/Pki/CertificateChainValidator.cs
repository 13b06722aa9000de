// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// Validates a certificate against the bus's own roots only, never the operating system's store,
/// at the time the injected <see cref="TimeProvider"/> gives, for one <see cref="CertificateProfile"/>.
/// Revocation is not checked here: that is the bus's own OCSP, checked separately.
/// </summary>
public sealed class CertificateChainValidator : IDisposable
{
    private readonly X509Certificate2Collection roots = [];
    private readonly TimeProvider timeProvider;

    /// <param name="trustedRoots">The instance's CA certificates (copied; the caller keeps its own).</param>
    /// <param name="timeProvider">The clock the verification time comes from.</param>
    public CertificateChainValidator(IEnumerable<X509Certificate2> trustedRoots, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(trustedRoots);
        ArgumentNullException.ThrowIfNull(timeProvider);
        foreach (var root in trustedRoots)
        {
            if (root.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                throw new ArgumentException($"Trusted root '{root.Subject}' is not a CA certificate.", nameof(trustedRoots));
            }

            roots.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        }

        if (roots.Count == 0)
        {
            throw new ArgumentException("At least one trusted root is needed.", nameof(trustedRoots));
        }

        this.timeProvider = timeProvider;
    }

    /// <summary>
    /// Builds and checks the chain of <paramref name="certificate"/> for <paramref name="expectedProfile"/>.
    /// Reports every problem found (the first is the most telling), never throws for a bad certificate.
    /// </summary>
    /// <param name="certificate">The end-entity certificate.</param>
    /// <param name="expectedProfile">The use the caller is about to make of it.</param>
    /// <param name="intermediates">Intermediate CA certificates the peer supplied; they are not trusted on their own.</param>
    public CertificateValidationResult Validate(
        X509Certificate2 certificate,
        CertificateProfile expectedProfile,
        IEnumerable<X509Certificate2>? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var profile = ProfileDefinition.For(expectedProfile);
        if (profile.IsCertificateAuthority)
        {
            throw new ArgumentException("Validate checks end-entity certificates.", nameof(expectedProfile));
        }

        var verificationTime = timeProvider.GetUtcNow();
        var errors = new List<PkiError>();

        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(roots);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationFlags = X509VerificationFlags.NoFlag;
        policy.VerificationTime = verificationTime.UtcDateTime;
        foreach (var oid in profile.ExtendedKeyUsages)
        {
            policy.ApplicationPolicy.Add(new Oid(oid));
        }

        if (intermediates is not null)
        {
            policy.ExtraStore.AddRange(intermediates.ToArray());
        }

        try
        {
            if (!chain.Build(certificate))
            {
                AddChainErrors(chain, verificationTime, errors);
            }
        }
        catch (CryptographicException ex)
        {
            errors.Add(new PkiError(PkiErrors.CertificateInvalidChain, $"The chain could not be built: {ex.Message}"));
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, certificate))
                {
                    element.Certificate.Dispose();
                }
            }
        }

        // X509Chain lets a certificate without an EKU extension pass any application policy, and
        // does not look at key usage at all; the profile is checked on the certificate itself.
        try
        {
            AddUsageErrors(certificate, expectedProfile, profile, errors);
        }
        catch (CryptographicException)
        {
            // .NET decodes an extension's value only when it is first read: a certificate that
            // loads may still hold a basic-constraints or key-usage value that is not DER.
            errors.Add(new PkiError(PkiErrors.CertificateInvalidExtension, "An extension of the certificate does not decode."));
        }

        return new CertificateValidationResult(errors.Distinct().OrderBy(e => Priority(e.Code)).ToArray());
    }

    public void Dispose()
    {
        foreach (var root in roots)
        {
            root.Dispose();
        }
    }

    /// <summary>Orders problems so that the first says most: whose certificate it is before anything else.</summary>
    private static int Priority(string code) => code switch
    {
        PkiErrors.CertificateUntrustedRoot => 0,
        PkiErrors.CertificateInvalidSignature => 1,
        PkiErrors.CertificateExpired or PkiErrors.CertificateNotYetValid => 2,
        PkiErrors.CertificateWrongUsage => 3,
        PkiErrors.CertificateInvalidExtension => 4,
        _ => 5,
    };

    private static void AddChainErrors(X509Chain chain, DateTimeOffset verificationTime, List<PkiError> errors)
    {
        foreach (var element in chain.ChainElements)
        {
            foreach (var status in element.ChainElementStatus)
            {
                AddStatus(status.Status, element.Certificate, verificationTime, errors);
            }
        }

        // Some conditions (a missing issuer) are only reported for the chain as a whole.
        foreach (var status in chain.ChainStatus)
        {
            AddStatus(status.Status, null, verificationTime, errors);
        }

        if (errors.Count == 0)
        {
            errors.Add(new PkiError(PkiErrors.CertificateInvalidChain, "The chain did not validate."));
        }
    }

    private static void AddStatus(
        X509ChainStatusFlags flags, X509Certificate2? element, DateTimeOffset verificationTime, List<PkiError> errors)
    {
        var who = element is null ? "The chain" : $"'{element.Subject}'";
        foreach (var flag in Enum.GetValues<X509ChainStatusFlags>())
        {
            if (flag == X509ChainStatusFlags.NoError || !flags.HasFlag(flag))
            {
                continue;
            }

            var error = flag switch
            {
                X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain => new PkiError(
                    PkiErrors.CertificateUntrustedRoot,
                    "The certificate does not chain to a trusted root of this instance."),
                X509ChainStatusFlags.NotTimeValid when element is null => null, // reported per element
                X509ChainStatusFlags.NotTimeValid => TimeError(element, verificationTime),
                X509ChainStatusFlags.NotSignatureValid => new PkiError(
                    PkiErrors.CertificateInvalidSignature, $"{who} has a signature that does not verify."),
                X509ChainStatusFlags.NotValidForUsage or X509ChainStatusFlags.InvalidPolicyConstraints => new PkiError(
                    PkiErrors.CertificateWrongUsage, $"{who} is not valid for the required usage."),
                X509ChainStatusFlags.InvalidBasicConstraints
                    or X509ChainStatusFlags.InvalidExtension
                    or X509ChainStatusFlags.HasNotSupportedCriticalExtension
                    or X509ChainStatusFlags.InvalidNameConstraints
                    or X509ChainStatusFlags.HasNotSupportedNameConstraint
                    or X509ChainStatusFlags.HasNotPermittedNameConstraint
                    or X509ChainStatusFlags.HasExcludedNameConstraint => new PkiError(
                    PkiErrors.CertificateInvalidExtension, $"{who} has an invalid or unsupported extension ({flag})."),

                // Revocation is the bus's own OCSP; with NoCheck these should not appear.
                X509ChainStatusFlags.RevocationStatusUnknown or X509ChainStatusFlags.OfflineRevocation => null,
                _ => new PkiError(PkiErrors.CertificateInvalidChain, $"{who}: {flag}."),
            };
            if (error is not null)
            {
                errors.Add(error);
            }
        }
    }

    private static PkiError TimeError(X509Certificate2 element, DateTimeOffset verificationTime)
    {
        var notBefore = new DateTimeOffset(element.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(element.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        return verificationTime < notBefore
            ? new PkiError(
                PkiErrors.CertificateNotYetValid,
                $"'{element.Subject}' is not valid before {notBefore:O} (checked at {verificationTime:O}).")
            : new PkiError(
                PkiErrors.CertificateExpired,
                $"'{element.Subject}' expired at {notAfter:O} (checked at {verificationTime:O}).");
    }

    private static void AddUsageErrors(
        X509Certificate2 certificate, CertificateProfile expected, ProfileDefinition profile, List<PkiError> errors)
    {
        var basic = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is { CertificateAuthority: true })
        {
            errors.Add(new PkiError(PkiErrors.CertificateWrongUsage, "A CA certificate cannot be used as an end entity."));
        }

        var keyUsage = certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (keyUsage is null || (keyUsage.KeyUsages & profile.KeyUsage) != profile.KeyUsage)
        {
            errors.Add(new PkiError(
                PkiErrors.CertificateWrongUsage,
                $"Key usage {keyUsage?.KeyUsages.ToString() ?? "(none)"} lacks {profile.KeyUsage} needed for {expected}."));
        }

        var extendedUsage = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        var present = extendedUsage?.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value ?? string.Empty).ToArray() ?? [];
        if (profile.ExtendedKeyUsages.Count == 0)
        {
            // Signing profiles carry no EKU; a certificate with one was made for something else
            // (TLS, time-stamps, OCSP) and must not sign messages or configuration.
            if (present.Length > 0)
            {
                errors.Add(new PkiError(
                    PkiErrors.CertificateWrongUsage,
                    $"The certificate has extended key usages ({string.Join(", ", present)}); {expected} certificates have none."));
            }

            return;
        }

        var missing = profile.ExtendedKeyUsages.Except(present, StringComparer.Ordinal).ToArray();
        if (missing.Length > 0)
        {
            errors.Add(new PkiError(
                PkiErrors.CertificateWrongUsage,
                $"The certificate lacks extended key usage {string.Join(", ", missing)} needed for {expected}."));
        }

        if (expected == CertificateProfile.TimeStamping && (extendedUsage is not { Critical: true } || present.Length != 1))
        {
            // RFC 3161 §2.3: the TSA certificate has exactly one, critical, extended key usage.
            errors.Add(new PkiError(
                PkiErrors.CertificateWrongUsage,
                "A time-stamping certificate must have timeStamping as its only extended key usage, marked critical."));
        }
    }
}

/// <summary>The outcome of <see cref="CertificateChainValidator.Validate"/>.</summary>
public sealed class CertificateValidationResult
{
    internal CertificateValidationResult(IReadOnlyList<PkiError> errors)
    {
        Errors = errors;
    }

    public bool IsValid => Errors.Count == 0;

    /// <summary>Every problem found; empty when valid.</summary>
    public IReadOnlyList<PkiError> Errors { get; }

    /// <summary>The code of the first problem (the most telling), or null when valid.</summary>
    public string? Code => Errors.Count == 0 ? null : Errors[0].Code;
}
