// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node;
using ExchangeBus.Node.Configuration;
using Google.Protobuf;

namespace ExchangeBus.Audit;

/// <summary>Codes for a verification that could not run (as opposed to one that ran and found a problem).</summary>
public static class LogVerificationErrors
{
    /// <summary>The data folder has no global configuration to take the trusted CAs and TSAs from.</summary>
    public const string NoGlobalConfiguration = "Audit.NoGlobalConfiguration";

    /// <summary>The folder has no message log.</summary>
    public const string NoMessageLog = "Audit.NoMessageLog";
}

/// <summary>
/// What a log verification trusts: whose log it is (node.json), and the CAs that issue member
/// signing certificates and the TSAs' certificates, from the node's cached global configuration,
/// which must verify against the configuration anchor — the node's own anchor.json, or one the
/// auditor brings. The disk is trusted no more than the network: the cache is verified again.
/// </summary>
public sealed class LogVerifierTrust : IDisposable
{
    private const int MaxConfigurationBytes = 64 * 1024 * 1024;

    private LogVerifierTrust(NodeId node, GlobalConfigurationView configuration, string anchorFingerprint)
    {
        Node = node;
        ConfigurationVersion = configuration.Version;
        AnchorFingerprint = anchorFingerprint;
        CertificateAuthorities = configuration.TrustedCertificateAuthorities.Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray();
        TimeStampingAuthorities = configuration.TimeStampingAuthorities.Select(t => X509CertificateLoader.LoadCertificate(t.Certificate.RawData)).ToArray();
        TimeStampingUrls = configuration.TimeStampingAuthorities.Select(t => t.Url).ToArray();
    }

    public LogVerifierTrust(NodeId node, IEnumerable<X509Certificate2> certificateAuthorities, IEnumerable<X509Certificate2> timeStampingAuthorities)
    {
        ArgumentNullException.ThrowIfNull(node);
        Node = node;
        AnchorFingerprint = string.Empty;
        CertificateAuthorities = certificateAuthorities.Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray();
        TimeStampingAuthorities = timeStampingAuthorities.Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToArray();
    }

    /// <summary>The node whose log this is: every head must name it, and its member must sign them.</summary>
    public NodeId Node { get; }

    /// <summary>The CAs a member signing certificate must chain to.</summary>
    public IReadOnlyList<X509Certificate2> CertificateAuthorities { get; }

    /// <summary>The TSA certificates a tree head's token may be signed by (or chain from a CA to).</summary>
    public IReadOnlyList<X509Certificate2> TimeStampingAuthorities { get; }

    /// <summary>Where the TSAs of the configuration answer (RFC 3161 over HTTP), in its order; empty when given directly.</summary>
    public IReadOnlyList<Uri> TimeStampingUrls { get; } = [];

    /// <summary>The global configuration version the trust was taken from; 0 when given directly.</summary>
    public ulong ConfigurationVersion { get; }

    /// <summary>The fingerprint of the anchor the configuration verified against; empty when given directly.</summary>
    public string AnchorFingerprint { get; }

    /// <summary>
    /// Reads the trust from a node's data folder: node.json, and globalconf.bin verified against
    /// <paramref name="anchorPath"/> (the folder's anchor.json when null).
    /// </summary>
    /// <exception cref="NodeConfigurationException">With the code of what is missing or does not verify.</exception>
    public static LogVerifierTrust Load(string dataDirectory, string? anchorPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var paths = new NodePaths(dataDirectory);
        var node = NodeId.Parse(NodeSettings.Read(paths.Settings).Node);
        ConfigurationAnchor anchor;
        try
        {
            anchor = ConfigurationAnchor.Read(anchorPath ?? paths.Anchor);
        }
        catch (ConfigurationAnchorException ex)
        {
            throw new NodeConfigurationException(ex.Code, ex.Message);
        }

        if (!File.Exists(paths.GlobalConfigurationCache))
        {
            throw new NodeConfigurationException(LogVerificationErrors.NoGlobalConfiguration,
                $"{paths.GlobalConfigurationCache} does not exist: the trusted CAs and TSAs come from the node's cached global configuration.");
        }

        var bytes = AtomicFile.ReadBounded(paths.GlobalConfigurationCache, MaxConfigurationBytes);

        // A copy handed to an auditor has usually expired; expiry is about serving exchanges, not
        // about whose keys the registry vouched for. So the configuration is judged as of its own
        // creation: the anchor's key must still have signed it, and nothing else is relaxed.
        var verifier = new GlobalConfigurationVerifier(anchor, new InstantClock(CreatedAt(bytes) ?? DateTimeOffset.UtcNow));
        var result = verifier.Verify(bytes, installed: null);
        if (!result.IsValid)
        {
            throw new NodeConfigurationException(result.Code ?? GlobalConfErrors.Malformed,
                $"{paths.GlobalConfigurationCache} does not verify against the anchor ({result}).");
        }

        return new LogVerifierTrust(node, result.View!, anchor.Fingerprint);
    }

    public void Dispose()
    {
        foreach (var certificate in CertificateAuthorities.Concat(TimeStampingAuthorities))
        {
            certificate.Dispose();
        }
    }

    /// <summary>The creation time the (not yet verified) bytes claim, only to pick the clock they are verified at.</summary>
    private static DateTimeOffset? CreatedAt(byte[] bytes)
    {
        try
        {
            var signed = SignedGlobalConfiguration.Parser.ParseFrom(bytes);
            return GlobalConfiguration.Parser.ParseFrom(signed.Configuration).CreatedAt?.ToDateTimeOffset();
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }
}

/// <summary>A clock that says what it is told: judging certificates and configurations at the time they were used.</summary>
internal sealed class InstantClock(DateTimeOffset instant) : TimeProvider
{
    public DateTimeOffset Instant { get; set; } = instant;

    public override DateTimeOffset GetUtcNow() => Instant;
}
