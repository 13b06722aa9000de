// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Grpc.Tls;

/// <summary>
/// Validates peer certificates against the bus's own roots — never the operating system's store.
/// Revocation is not checked here: the bus has its own OCSP, checked above the transport.
/// </summary>
public sealed class CertificateTrust
{
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    private readonly X509Certificate2Collection _roots;
    private readonly TimeProvider _timeProvider;

    public CertificateTrust(IEnumerable<X509Certificate2> roots, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _roots = [.. roots];
        if (_roots.Count == 0)
        {
            throw new ArgumentException("At least one trusted root is required.", nameof(roots));
        }

        _timeProvider = timeProvider;
    }

    public X509Certificate2Collection Roots => _roots;

    /// <summary>
    /// Builds the chain from <paramref name="certificate"/> to one of our roots, checking
    /// validity at the current time and the extended key usage <paramref name="usage"/>.
    /// </summary>
    public TrustResult Validate(X509Certificate2 certificate, Oid usage, X509Certificate2Collection? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_roots);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = _timeProvider.GetUtcNow().UtcDateTime;
        policy.VerificationTimeIgnored = false;
        policy.ApplicationPolicy.Add(usage);
        if (intermediates is not null)
        {
            policy.ExtraStore.AddRange(intermediates);
        }

        if (chain.Build(certificate))
        {
            return TrustResult.Trusted;
        }

        var flags = X509ChainStatusFlags.NoError;
        foreach (var status in chain.ChainStatus)
        {
            flags |= status.Status;
        }

        return new TrustResult(false, Describe(flags));
    }

    private static string Describe(X509ChainStatusFlags flags)
    {
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            return "certificate is not issued by a trusted bus authority";
        }

        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            return "certificate is expired or not yet valid";
        }

        if ((flags & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidBasicConstraints)) != 0)
        {
            return "certificate is not valid for this usage";
        }

        if ((flags & X509ChainStatusFlags.NotSignatureValid) != 0)
        {
            return "certificate signature is invalid";
        }

        return "certificate chain is invalid (" + flags + ")";
    }
}

public readonly record struct TrustResult(bool IsTrusted, string? Problem)
{
    public static readonly TrustResult Trusted = new(true, null);
}
