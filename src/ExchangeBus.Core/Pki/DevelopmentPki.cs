// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace ExchangeBus.Core.Pki;

/// <summary>What <see cref="DevelopmentPki.Create"/> makes and where.</summary>
public sealed record DevelopmentPkiOptions
{
    public string OutputDirectory { get; init; } = DevelopmentPki.DefaultDirectory;

    public string Instance { get; init; } = DevelopmentPki.DefaultInstance;

    /// <summary>Replace an existing set. Without it an existing file stops the run before anything is written.</summary>
    public bool Force { get; init; }
}

/// <summary>
/// Makes the development PKI of one instance in a folder (by default <c>certs-dev/</c>): a root CA
/// marked "DEVELOPMENT ONLY" and the central authority's keys and certificates, plus a manifest.
/// For development and tests only; a production node refuses these certificates
/// (<see cref="IsDevelopmentCertificate"/>).
/// </summary>
public sealed class DevelopmentPki(TimeProvider timeProvider)
{
    public const string DefaultDirectory = "certs-dev";
    public const string DefaultInstance = "DEV";

    /// <summary>The organisation of every development certificate, and what marks one as such.</summary>
    public const string Organisation = "ExchangeBus Development";

    public const string DevelopmentMarker = "DEVELOPMENT ONLY";

    public const string RootCertificateFile = "root-ca.pem";
    public const string RootKeyFile = "root-ca.key.pem";
    public const string ConfigurationSigningCertificateFile = "config-signing.pem";
    public const string ConfigurationSigningKeyFile = "config-signing.key.pem";
    public const string TimeStampingCertificateFile = "tsa.pem";
    public const string TimeStampingKeyFile = "tsa.key.pem";
    public const string OcspCertificateFile = "ocsp.pem";
    public const string OcspKeyFile = "ocsp.key.pem";
    public const string RegistryTlsCertificateFile = "registry-tls.pem";
    public const string RegistryTlsKeyFile = "registry-tls.key.pem";
    public const string AdministratorCertificateFile = "admin.pem";
    public const string AdministratorKeyFile = "admin.key.pem";
    public const string ManifestFile = "manifest.json";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    private static readonly LeafSpec[] Leaves =
    [
        new("config-signing", CertificateProfile.ConfigurationSigning, "Configuration Signing", null,
            ConfigurationSigningCertificateFile, ConfigurationSigningKeyFile),
        new("tsa", CertificateProfile.TimeStamping, "Time-Stamping Authority", null,
            TimeStampingCertificateFile, TimeStampingKeyFile),
        new("ocsp", CertificateProfile.OcspSigning, "OCSP Responder", null,
            OcspCertificateFile, OcspKeyFile),
        new("registry-tls", CertificateProfile.TlsServer, "Registry", null,
            RegistryTlsCertificateFile, RegistryTlsKeyFile),
        new("admin", CertificateProfile.Administrator, "Central Authority Administrator", "Administrators",
            AdministratorCertificateFile, AdministratorKeyFile),
    ];

    /// <summary>Every file a complete set has, the manifest last.</summary>
    public static IReadOnlyList<string> AllFiles { get; } =
    [
        RootCertificateFile,
        RootKeyFile,
        .. Leaves.SelectMany(l => new[] { l.CertificateFile, l.KeyFile }),
        ManifestFile,
    ];

    /// <summary>
    /// Creates the set. Keys are written 0600, the folder (if new) 0700, each file atomically,
    /// and the manifest last, so a manifest means a complete set.
    /// </summary>
    /// <exception cref="PkiException"><see cref="PkiErrors.DevelopmentPkiAlreadyExists"/> when any file of a set exists and Force is not set.</exception>
    public DevelopmentPkiManifest Create(DevelopmentPkiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var directory = Path.GetFullPath(options.OutputDirectory);
        if (!options.Force)
        {
            var existing = AllFiles.Where(f => File.Exists(Path.Combine(directory, f))).ToArray();
            if (existing.Length > 0)
            {
                throw new PkiException(
                    PkiErrors.DevelopmentPkiAlreadyExists,
                    $"'{directory}' already holds a development PKI ({string.Join(", ", existing)}); use --force to replace it.");
            }
        }

        // Built first so that a bad instance code fails before anything is created.
        var rootSubject = CertificateNames.Build(
            options.Instance, Organisation, DevelopmentMarker, "ExchangeBus Development Root CA");
        PemFiles.EnsurePrivateDirectory(directory);
        var overwrite = options.Force;
        var entries = new List<DevelopmentPkiEntry>();

        using var root = CertificateAuthority.CreateRoot(rootSubject, timeProvider);
        root.Save(Path.Combine(directory, RootCertificateFile), Path.Combine(directory, RootKeyFile), overwrite);
        entries.Add(Entry("root-ca", "RootCa", RootCertificateFile, RootKeyFile, root.Certificate));

        foreach (var leaf in Leaves)
        {
            using var key = EcKeys.GenerateP256();
            var subject = leaf.Unit is null
                ? CertificateNames.CentralService(options.Instance, Organisation, leaf.CommonName)
                : CertificateNames.Person(options.Instance, Organisation, leaf.Unit, leaf.CommonName);
            var isTls = leaf.Profile == CertificateProfile.TlsServer;
            using var certificate = root.Issue(new CertificateIssueRequest
            {
                Subject = subject,
                PublicKey = new PublicKey(key),
                Profile = leaf.Profile,
                DnsNames = isTls ? ["localhost"] : [],
                IpAddresses = isTls ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : [],
            });
            PemFiles.WritePrivateKey(Path.Combine(directory, leaf.KeyFile), key, overwrite);
            PemFiles.WriteCertificate(Path.Combine(directory, leaf.CertificateFile), certificate, overwrite);
            entries.Add(Entry(leaf.Name, leaf.Profile.ToString(), leaf.CertificateFile, leaf.KeyFile, certificate));
        }

        var manifest = new DevelopmentPkiManifest(
            $"ExchangeBus development PKI: {DevelopmentMarker}, for development and tests, never production.",
            options.Instance,
            timeProvider.GetUtcNow(),
            entries);
        PemFiles.WritePublicText(
            Path.Combine(directory, ManifestFile),
            JsonSerializer.Serialize(manifest, JsonOptions) + "\n",
            overwrite);
        return manifest;
    }

    /// <summary>Reads the manifest of a set made by <see cref="Create"/>.</summary>
    public static DevelopmentPkiManifest ReadManifest(string directory)
    {
        var bytes = Internal.SecureFile.ReadBounded(Path.Combine(directory, ManifestFile), PemFiles.MaxFileBytes);
        return JsonSerializer.Deserialize<DevelopmentPkiManifest>(bytes, JsonOptions)
            ?? throw new PkiException(PkiErrors.FileNotFound, $"'{directory}' has an empty manifest.");
    }

    /// <summary>
    /// True when the certificate or its issuer belongs to a development PKI, so a node started
    /// for production can refuse a development trust anchor.
    /// </summary>
    public static bool IsDevelopmentCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return HasOrganisation(certificate.SubjectName) || HasOrganisation(certificate.IssuerName);
    }

    private static bool HasOrganisation(X500DistinguishedName name)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements
                && string.Equals(rdn.GetSingleElementType().Value, "2.5.4.10", StringComparison.Ordinal)
                && string.Equals(rdn.GetSingleElementValue(), Organisation, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static DevelopmentPkiEntry Entry(
        string name, string profile, string certificateFile, string keyFile, X509Certificate2 certificate) => new(
        name,
        profile,
        certificateFile,
        keyFile,
        certificate.Subject,
        certificate.SerialNumber,
        new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero),
        new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero),
        certificate.GetCertHashString(HashAlgorithmName.SHA256));

    private sealed record LeafSpec(
        string Name, CertificateProfile Profile, string CommonName, string? Unit, string CertificateFile, string KeyFile);
}

/// <summary>The manifest.json of a development PKI set.</summary>
public sealed record DevelopmentPkiManifest(
    string Purpose, string Instance, DateTimeOffset CreatedAt, IReadOnlyList<DevelopmentPkiEntry> Entries);

/// <summary>One certificate of the set; <see cref="PrivateKeyFile"/> is a file name, never key material.</summary>
public sealed record DevelopmentPkiEntry(
    string Name,
    string Profile,
    string CertificateFile,
    string PrivateKeyFile,
    string Subject,
    string SerialNumber,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string Sha256Fingerprint);
