// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.Identifiers;
using Google.Protobuf;

namespace ExchangeBus.Core.GlobalConf;

/// <summary>
/// Decides whether a node may use a global configuration it downloaded (or read back from its
/// cache), checking in this order, cheapest and least trusting first: size, signer, signature,
/// then, on bytes now known to come from the registry, instance, version, times and content
/// (docs/design/global-configuration.md). Nothing but the three-field envelope is parsed before
/// the signature has verified.
/// </summary>
/// <remarks>
/// The bytes come from the network, so every refusal is a result with a stable code, never an
/// exception. Thread-safe: it holds no state but its settings.
/// </remarks>
public sealed class GlobalConfigurationVerifier
{
    // Room for the signature, the hash and the field tags around the configuration.
    private const int EnvelopeAllowance = 4096;

    private readonly TimeProvider timeProvider;

    /// <param name="anchor">What the node was installed with: the instance and the signing certificates it trusts.</param>
    /// <param name="timeProvider">The clock for creation and expiry checks.</param>
    /// <param name="options">Bounds; null for the defaults.</param>
    public GlobalConfigurationVerifier(
        ConfigurationAnchor anchor, TimeProvider timeProvider, GlobalConfigurationVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options ??= new GlobalConfigurationVerifierOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConfigurationBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxClockSkew, TimeSpan.Zero, nameof(options));
        Anchor = anchor;
        Options = options;
        this.timeProvider = timeProvider;
    }

    public ConfigurationAnchor Anchor { get; }

    public GlobalConfigurationVerifierOptions Options { get; }

    /// <summary>Verifies a serialized <c>SignedGlobalConfiguration</c> as received.</summary>
    /// <param name="signedMessage">The bytes as received.</param>
    /// <param name="installed">The configuration the node uses now, or null when it has none (version 0).</param>
    public GlobalConfigurationVerificationResult Verify(ReadOnlySpan<byte> signedMessage, GlobalConfigurationView? installed)
    {
        if (signedMessage.Length > (long)Options.MaxConfigurationBytes + EnvelopeAllowance)
        {
            return TooLarge(signedMessage.Length);
        }

        SignedGlobalConfiguration signed;
        try
        {
            signed = SignedGlobalConfiguration.Parser.ParseFrom(signedMessage);
        }
        catch (InvalidProtocolBufferException)
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.Malformed, "The bytes are not a SignedGlobalConfiguration.");
        }

        return Verify(signed, installed);
    }

    /// <summary>Verifies a <c>SignedGlobalConfiguration</c> already taken off the wire.</summary>
    /// <param name="signed">The envelope; its configuration bytes are verified exactly as they are.</param>
    /// <param name="installed">The configuration the node uses now, or null when it has none (version 0).</param>
    public GlobalConfigurationVerificationResult Verify(SignedGlobalConfiguration signed, GlobalConfigurationView? installed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var bytes = signed.Configuration;
        if (bytes.Length > Options.MaxConfigurationBytes)
        {
            return TooLarge(bytes.Length);
        }

        if (bytes.IsEmpty || signed.Signature.IsEmpty || signed.SignerCertificateSha256.Length != SHA256.HashSizeInBytes)
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.Malformed,
                "The envelope lacks the configuration, the signature or a 32-byte signer certificate hash.");
        }

        var signer = Anchor.FindSigningCertificate(signed.SignerCertificateSha256.Span);
        if (signer is null)
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.UnknownSigner,
                $"Signed by certificate {Convert.ToHexStringLower(signed.SignerCertificateSha256.Span)} (SHA-256), which the configuration anchor does not list.");
        }

        // One pass over the bytes: the hash is both what the signature covers and the identity
        // used to tell "the same configuration again" from a conflicting one.
        var sha256 = SHA256.HashData(bytes.Span);
        if (!SignatureVerifies(signer, sha256, signed.Signature.Span))
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.InvalidSignature, "The signature does not verify over the configuration bytes.");
        }

        GlobalConfiguration configuration;
        try
        {
            configuration = GlobalConfiguration.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            // Signed but unparseable: a registry fault, but still not something to use.
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.Malformed, "The signed bytes are not a GlobalConfiguration.");
        }

        return CheckSigned(configuration, sha256, installed);
    }

    /// <summary>True when <paramref name="view"/> has expired by this verifier's clock (then: <see cref="GlobalConfErrors.OutdatedGlobalConf"/>).</summary>
    public bool IsExpired(GlobalConfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.IsExpired(timeProvider.GetUtcNow());
    }

    private static bool SignatureVerifies(X509Certificate2 signer, byte[] sha256, ReadOnlySpan<byte> signature)
    {
        try
        {
            using var key = signer.GetECDsaPublicKey();
            return key is not null && key.VerifyHash(sha256, signature, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            // Some providers throw for malformed DER instead of answering false.
            return false;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private GlobalConfigurationVerificationResult TooLarge(long length) =>
        GlobalConfigurationVerificationResult.Refused(
            GlobalConfErrors.TooLarge,
            Invariant($"The configuration is {length} bytes; at most {Options.MaxConfigurationBytes} are accepted."));

    private GlobalConfigurationVerificationResult CheckSigned(
        GlobalConfiguration configuration, byte[] sha256, GlobalConfigurationView? installed)
    {
        var version = configuration.Version;
        IReadOnlyList<GlobalConfError> problems;
        if (!GlobalConfigurationView.TryReadHeader(configuration, out var createdAt, out var expiresAt))
        {
            // Without a version and times nothing below can be decided; report every problem.
            GlobalConfigurationView.Create(configuration, sha256, out problems);
            return GlobalConfigurationVerificationResult.Refused(problems, version);
        }

        if (!string.Equals(configuration.Instance, Anchor.Instance, StringComparison.Ordinal))
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.WrongInstance,
                $"The configuration is for instance \"{IdentifierSyntax.Quote(configuration.Instance)}\"; this node belongs to {Anchor.Instance}.",
                version);
        }

        var installedVersion = installed?.Version ?? 0;
        if (version < installedVersion)
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.Rollback,
                Invariant($"Version {version} is older than the installed version {installedVersion}."),
                version);
        }

        if (version == installedVersion)
        {
            // The same version again is the normal answer to a poll; the same version with other
            // bytes means the registry published two configurations under one number.
            return CryptographicOperations.FixedTimeEquals(sha256, installed!.ConfigurationSha256Bytes)
                ? GlobalConfigurationVerificationResult.Refused(
                    GlobalConfErrors.NotNewer, Invariant($"Version {version} is the installed configuration."), version)
                : GlobalConfigurationVerificationResult.Refused(
                    GlobalConfErrors.Rollback,
                    Invariant($"Version {version} differs from the installed configuration of the same version."),
                    version);
        }

        var now = timeProvider.GetUtcNow();
        if (createdAt > now + Options.MaxClockSkew)
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.FromTheFuture,
                Invariant($"Version {version} was created at {createdAt:O}, after now ({now:O}) plus the allowed skew of {Options.MaxClockSkew}."),
                version);
        }

        if (expiresAt <= now)
        {
            return GlobalConfigurationVerificationResult.Refused(
                GlobalConfErrors.Expired,
                Invariant($"Version {version} expired at {expiresAt:O} (now {now:O})."),
                version);
        }

        var view = GlobalConfigurationView.Create(configuration, sha256, out problems);
        return view is null
            ? GlobalConfigurationVerificationResult.Refused(problems, version)
            : GlobalConfigurationVerificationResult.Valid(view);
    }
}
