// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ExchangeBus.Core.GlobalConf.Internal;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Pki.Internal;

namespace ExchangeBus.Core.GlobalConf;

/// <summary>
/// What a node is installed with, out of band, before it trusts anything (design.md, "Trust"):
/// the instance, where the registry is, the certificate(s) that sign the global configuration,
/// and the root(s) the registry's TLS certificate chains to. A JSON file with PEM strings, so an
/// operator can read it and check it with openssl (docs/design/global-configuration.md).
/// </summary>
/// <remarks>
/// More than one signing certificate is allowed so the central authority can roll its key over:
/// anchors list old and new for a while, the registry switches, then the old one is dropped.
/// The signing certificates are pinned, not chain-validated: a node trusts exactly these keys.
/// So is the registry's own TLS certificate (<c>registryTlsCertificates</c>, more than one for a
/// rollover): node certificates chain to the same root and carry serverAuth too, so the chain
/// alone would let any node's certificate pass for the registry's. Anchors written before that
/// field are read, and refused where a registry is reached (<see cref="EnsureRegistryPinned"/>).
/// </remarks>
public sealed class ConfigurationAnchor
{
    /// <summary>The value of the <c>format</c> field this code writes and reads.</summary>
    public const string Format = "exchangebus-configuration-anchor/1";

    /// <summary>An anchor holds a few certificates, a few KiB; anything much bigger is not one.</summary>
    public const int MaxFileBytes = 256 * 1024;

    private const string FormatField = "format";
    private const string InstanceField = "instance";
    private const string RegistryAddressField = "registryAddress";
    private const string RegistryAddressesField = "registryAddresses";
    private const string CreatedAtField = "createdAt";
    private const string SigningCertificatesField = "configurationSigningCertificates";
    private const string TrustRootsField = "registryTlsTrustRoots";
    private const string RegistryCertificatesField = "registryTlsCertificates";
    private const string CreatedAtFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    private const string CertificateLabel = "CERTIFICATE";

    private static readonly string[] KnownFields =
        [FormatField, InstanceField, RegistryAddressField, RegistryAddressesField, CreatedAtField, SigningCertificatesField, TrustRootsField, RegistryCertificatesField];

    private readonly X509Certificate2[] signingCertificates;
    private readonly byte[][] signingCertificateSha256;
    private readonly X509Certificate2[] registryTlsTrustRoots;
    private readonly X509Certificate2[] registryTlsCertificates;
    private readonly byte[][] registryTlsCertificateSha256;
    private readonly string[] registryAddresses;

    private ConfigurationAnchor(
        string instance,
        string[] registryAddresses,
        DateTimeOffset createdAt,
        X509Certificate2[] signingCertificates,
        X509Certificate2[] registryTlsTrustRoots,
        X509Certificate2[] registryTlsCertificates)
    {
        this.registryTlsCertificates = registryTlsCertificates;
        registryTlsCertificateSha256 = registryTlsCertificates.Select(c => SHA256.HashData(c.RawData)).ToArray();
        Instance = instance;
        this.registryAddresses = registryAddresses;
        RegistryAddress = registryAddresses[0];
        CreatedAt = createdAt;
        this.signingCertificates = signingCertificates;
        this.registryTlsTrustRoots = registryTlsTrustRoots;
        signingCertificateSha256 = signingCertificates.Select(c => SHA256.HashData(c.RawData)).ToArray();
        Fingerprint = ComputeFingerprint();
    }

    /// <summary>The instance code every configuration must name.</summary>
    public string Instance { get; }

    /// <summary>The registry, normalized to <c>https://host:port</c>.</summary>
    public string RegistryAddress { get; }

    /// <summary>
    /// Every registry instance the anchor names, normalized, <see cref="RegistryAddress"/> first
    /// (several instances on one database, docs/scale-out.md); that one alone in an anchor
    /// without the <c>registryAddresses</c> field.
    /// </summary>
    public IReadOnlyList<string> RegistryAddresses => registryAddresses.AsReadOnly();

    /// <summary>When the anchor was made (UTC, whole seconds). Informational; not in the fingerprint.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The configuration-signing certificates a configuration may be signed by.</summary>
    public IReadOnlyList<X509Certificate2> SigningCertificates => signingCertificates.AsReadOnly();

    /// <summary>The roots the registry's TLS server certificate must chain to.</summary>
    public IReadOnlyList<X509Certificate2> RegistryTlsTrustRoots => registryTlsTrustRoots.AsReadOnly();

    /// <summary>The registry's own TLS certificates, pinned: empty in an anchor written before they were.</summary>
    public IReadOnlyList<X509Certificate2> RegistryTlsCertificates => registryTlsCertificates.AsReadOnly();

    /// <summary>Refuses, saying what to do, an anchor that pins no registry TLS certificate (one written before they were pinned).</summary>
    /// <exception cref="ConfigurationAnchorException"><see cref="GlobalConfErrors.AnchorRegistryCertificateMissing"/>.</exception>
    public void EnsureRegistryPinned()
    {
        if (registryTlsCertificates.Length == 0)
        {
            throw new ConfigurationAnchorException(GlobalConfErrors.AnchorRegistryCertificateMissing,
                "The anchor pins no registry TLS certificate (it was written before the registry's certificate was pinned), so a node's certificate could pass for the registry's. "
                + "Ask the central authority for a new anchor (`xbus registry anchor export`), check its fingerprint with them, and put it in place of this one.");
        }
    }

    /// <summary>
    /// SHA-256 (64 lower-case hex digits) of the anchor's canonical form: everything it makes a
    /// node trust, and nothing else, so that two operators can compare anchors by reading it out.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary><see cref="Fingerprint"/> in upper case, in groups of four, for reading aloud.</summary>
    public string FingerprintForReading =>
        string.Join(' ', Fingerprint.ToUpperInvariant().Chunk(4).Select(group => new string(group)));

    /// <summary>
    /// Makes an anchor; the central authority exports it for node operators. The last argument
    /// is the registry's own TLS certificate(s), pinned: without it the anchor is like one written
    /// before they were pinned, and clients of the registry refuse it.
    /// </summary>
    /// <exception cref="ConfigurationAnchorException">With every problem found.</exception>
    public static ConfigurationAnchor Create(
        string instance,
        string registryAddress,
        IEnumerable<X509Certificate2> signingCertificates,
        IEnumerable<X509Certificate2> registryTlsTrustRoots,
        DateTimeOffset createdAt,
        IEnumerable<X509Certificate2>? registryTlsCertificates = null,
        IEnumerable<string>? otherRegistryAddresses = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(registryAddress);
        ArgumentNullException.ThrowIfNull(signingCertificates);
        ArgumentNullException.ThrowIfNull(registryTlsTrustRoots);

        var truncated = new DateTimeOffset(
            createdAt.UtcTicks - (createdAt.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var errors = new List<GlobalConfError>();
        return Build(
            instance,
            registryAddress,
            truncated,
            signingCertificates.Select(c => (byte[]?)c.RawData).ToArray(),
            registryTlsTrustRoots.Select(c => (byte[]?)c.RawData).ToArray(),
            (registryTlsCertificates ?? []).Select(c => (byte[]?)c.RawData).ToArray(),
            [registryAddress, .. otherRegistryAddresses ?? []],
            errors);
    }

    /// <summary>Reads an anchor file, refusing one that others could have changed.</summary>
    /// <exception cref="ConfigurationAnchorException">With a code from <see cref="GlobalConfErrors"/> (<c>Anchor.*</c>).</exception>
    public static ConfigurationAnchor Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            // Not secret, but it decides whom the node trusts: a file anyone else may write is
            // as good as no anchor.
            if (!OperatingSystem.IsWindows() && File.Exists(path)
                && (File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new ConfigurationAnchorException(
                    GlobalConfErrors.AnchorInsecurePermissions,
                    $"Anchor file '{path}' is writable by group or others; it must not be (chmod 600 or 644).");
            }

            bytes = SecureFile.ReadBounded(path, MaxFileBytes);
        }
        catch (PkiException ex) when (string.Equals(ex.Code, PkiErrors.FileTooLarge, StringComparison.Ordinal))
        {
            throw new ConfigurationAnchorException(GlobalConfErrors.AnchorTooLarge, ex.Message, ex);
        }
        catch (PkiException ex) when (string.Equals(ex.Code, PkiErrors.FileNotFound, StringComparison.Ordinal))
        {
            throw new ConfigurationAnchorException(GlobalConfErrors.AnchorNotFound, ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationAnchorException(GlobalConfErrors.AnchorUnreadable, $"Anchor file '{path}' cannot be read.", ex);
        }

        return Parse(bytes);
    }

    /// <summary>Reads an anchor from its JSON bytes (UTF-8).</summary>
    /// <exception cref="ConfigurationAnchorException">With a code from <see cref="GlobalConfErrors"/> (<c>Anchor.*</c>), every problem listed.</exception>
    public static ConfigurationAnchor Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxFileBytes)
        {
            throw new ConfigurationAnchorException(
                GlobalConfErrors.AnchorTooLarge,
                string.Create(CultureInfo.InvariantCulture, $"The anchor is {json.Length} bytes; at most {MaxFileBytes} are accepted."));
        }

        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            json = json[3..];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(
                json.ToArray(),
                new JsonDocumentOptions { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException ex)
        {
            throw new ConfigurationAnchorException(
                GlobalConfErrors.AnchorMalformed,
                string.Create(CultureInfo.InvariantCulture, $"The anchor is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})."),
                ex);
        }

        using (document)
        {
            return FromJson(document.RootElement);
        }
    }

    /// <summary>The anchor file's content: indented JSON, certificates as PEM strings, ending in a newline.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(8 * 1024);

        // Only ASCII goes in (validated codes, a URL, PEM, a date), so the relaxed encoder is
        // safe here; the default one would write every '+' of the base64 as \u002B.
        using (var writer = new Utf8JsonWriter(
            buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString(FormatField, Format);
            writer.WriteString(InstanceField, Instance);
            writer.WriteString(RegistryAddressField, RegistryAddress);

            // Only with several instances: an anchor naming one registry stays as older nodes read it.
            if (registryAddresses.Length > 1)
            {
                writer.WriteStartArray(RegistryAddressesField);
                foreach (var other in registryAddresses)
                {
                    writer.WriteStringValue(other);
                }

                writer.WriteEndArray();
            }
            writer.WriteString(CreatedAtField, CreatedAt.UtcDateTime.ToString(CreatedAtFormat, CultureInfo.InvariantCulture));
            WritePemArray(writer, SigningCertificatesField, signingCertificates);
            WritePemArray(writer, TrustRootsField, registryTlsTrustRoots);
            if (registryTlsCertificates.Length > 0)
            {
                WritePemArray(writer, RegistryCertificatesField, registryTlsCertificates);
            }

            writer.WriteEndObject();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    /// <summary>
    /// Writes the anchor file owner-only (0600), atomically (temporary file, flush, rename), so a
    /// node never reads half an anchor. The parent folder is created 0700 if missing.
    /// </summary>
    /// <exception cref="ConfigurationAnchorException"><see cref="GlobalConfErrors.AnchorAlreadyExists"/> when the file exists and <paramref name="overwrite"/> is false.</exception>
    public void Write(string path, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            PemFiles.EnsurePrivateDirectory(directory);
        }

        try
        {
            SecureFile.WriteAtomically(path, ToJson(), SecureFile.OwnerReadWrite, overwrite);
        }
        catch (PkiException ex) when (string.Equals(ex.Code, PkiErrors.FileAlreadyExists, StringComparison.Ordinal))
        {
            throw new ConfigurationAnchorException(GlobalConfErrors.AnchorAlreadyExists, ex.Message, ex);
        }
    }

    public override string ToString() => $"{Instance} anchor for {RegistryAddress}, fingerprint {Fingerprint}";

    /// <summary>The signing certificate with this SHA-256, or null when the anchor does not list it.</summary>
    internal X509Certificate2? FindSigningCertificate(ReadOnlySpan<byte> sha256)
    {
        for (var i = 0; i < signingCertificateSha256.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(signingCertificateSha256[i], sha256))
            {
                return signingCertificates[i];
            }
        }

        return null;
    }

    private static ConfigurationAnchor FromJson(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigurationAnchorException(GlobalConfErrors.AnchorMalformed, "The anchor is not a JSON object.");
        }

        // A later format may add fields; say "newer format" rather than list them as unknown.
        if (root.TryGetProperty(FormatField, out var format) && format.ValueKind == JsonValueKind.String
            && !format.ValueEquals(Format))
        {
            throw new ConfigurationAnchorException(
                GlobalConfErrors.AnchorUnsupportedFormat,
                $"The anchor format is \"{IdentifierSyntax.Quote(format.GetString() ?? string.Empty)}\"; this node reads \"{Format}\".");
        }

        var errors = new List<GlobalConfError>();
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!KnownFields.Contains(property.Name, StringComparer.Ordinal))
            {
                errors.Add(Malformed(property.Name, $"Unknown field \"{IdentifierSyntax.Quote(property.Name)}\"."));
            }
            else if (!fields.TryAdd(property.Name, property.Value))
            {
                // JSON parsers disagree on which duplicate wins; an anchor has no business with two.
                errors.Add(Malformed(property.Name, $"Field \"{property.Name}\" appears more than once."));
            }
        }

        var instance = RequiredString(fields, InstanceField, errors);
        var address = RequiredString(fields, RegistryAddressField, errors);
        var createdAtText = RequiredString(fields, CreatedAtField, errors);
        RequiredString(fields, FormatField, errors);
        var signingPem = RequiredStringArray(fields, SigningCertificatesField, errors);
        var rootsPem = RequiredStringArray(fields, TrustRootsField, errors);

        // Optional, so that an anchor written before it still reads (and is refused where a registry is reached, saying why).
        string[]? pinnedPem = fields.ContainsKey(RegistryCertificatesField) ? RequiredStringArray(fields, RegistryCertificatesField, errors) : [];
        string[]? addresses = fields.ContainsKey(RegistryAddressesField) ? RequiredStringArray(fields, RegistryAddressesField, errors) : [address!];
        if (errors.Count > 0)
        {
            throw new ConfigurationAnchorException(errors);
        }

        if (!DateTimeOffset.TryParseExact(
                createdAtText, CreatedAtFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var createdAt))
        {
            errors.Add(new GlobalConfError(
                GlobalConfErrors.AnchorInvalidCreatedAt, "createdAt must be a UTC time like 2030-01-15T12:00:00Z.", CreatedAtField));
        }

        var signingDer = DecodeAll(signingPem!, SigningCertificatesField, GlobalConfErrors.AnchorInvalidSigningCertificate, errors);
        var rootsDer = DecodeAll(rootsPem!, TrustRootsField, GlobalConfErrors.AnchorInvalidTrustRoot, errors);
        var pinnedDer = DecodeAll(pinnedPem!, RegistryCertificatesField, GlobalConfErrors.AnchorInvalidRegistryCertificate, errors);
        return Build(instance!, address!, createdAt.ToUniversalTime(), signingDer, rootsDer, pinnedDer, addresses!, errors);
    }

    /// <summary>Checks every value; throws with all problems, including any the caller found first.</summary>
    private static ConfigurationAnchor Build(
        string instance,
        string registryAddress,
        DateTimeOffset createdAt,
        IReadOnlyList<byte[]?> signingDer,
        IReadOnlyList<byte[]?> rootsDer,
        IReadOnlyList<byte[]?> pinnedDer,
        IReadOnlyList<string> addresses,
        List<GlobalConfError> errors)
    {
        if (IdentifierParts.CheckInstance(instance) is { } instanceError)
        {
            errors.Add(new GlobalConfError(GlobalConfErrors.AnchorInvalidInstance, instanceError.Message, InstanceField));
        }

        if (!NetworkAddresses.TryParseRegistryAddress(registryAddress, out var normalizedAddress, out var reason))
        {
            errors.Add(new GlobalConfError(GlobalConfErrors.AnchorInvalidRegistryAddress, reason, RegistryAddressField));
        }

        // registryAddresses repeats registryAddress first, as the configuration's list does; an
        // anchor without it names registryAddress alone (the first is checked above, once).
        var all = new List<string>();
        if (normalizedAddress is not null)
        {
            all.Add(normalizedAddress);
        }

        for (var i = 0; i < addresses.Count; i++)
        {
            var parsed = NetworkAddresses.TryParseRegistryAddress(addresses[i], out var other, out var otherReason);
            if (i == 0)
            {
                if (normalizedAddress is not null && !string.Equals(other, normalizedAddress, StringComparison.Ordinal))
                {
                    errors.Add(new GlobalConfError(GlobalConfErrors.AnchorInvalidRegistryAddress, "The first of registryAddresses must be registryAddress.", RegistryAddressesField + "[0]"));
                }
            }
            else if (!parsed)
            {
                errors.Add(new GlobalConfError(GlobalConfErrors.AnchorInvalidRegistryAddress, otherReason!, $"{RegistryAddressesField}[{i}]"));
            }
            else if (!all.Contains(other!, StringComparer.Ordinal))
            {
                all.Add(other!);
            }
        }

        var signing = LoadAll(signingDer, SigningCertificatesField, GlobalConfErrors.AnchorInvalidSigningCertificate, CheckSigningCertificate, errors);
        var roots = LoadAll(rootsDer, TrustRootsField, GlobalConfErrors.AnchorInvalidTrustRoot, CheckTrustRoot, errors);
        var pinned = pinnedDer.Count == 0 ? [] : LoadAll(pinnedDer, RegistryCertificatesField, GlobalConfErrors.AnchorInvalidRegistryCertificate, CheckRegistryCertificate, errors);
        if (errors.Count > 0)
        {
            throw new ConfigurationAnchorException(errors);
        }

        return new ConfigurationAnchor(instance, [.. all], createdAt, signing, roots, pinned);
    }

    private static X509Certificate2[] LoadAll(
        IReadOnlyList<byte[]?> ders,
        string field,
        string code,
        Func<X509Certificate2, string?> check,
        List<GlobalConfError> errors)
    {
        if (ders.Count == 0)
        {
            errors.Add(new GlobalConfError(code, $"{field} must list at least one certificate.", field));
            return [];
        }

        var result = new List<X509Certificate2>(ders.Count);
        var seen = new HashSet<byte[]>(ByteKeyComparer.Instance);
        for (var i = 0; i < ders.Count; i++)
        {
            var der = ders[i];
            if (der is null)
            {
                continue; // already reported by DecodeAll
            }

            var path = string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]");
            X509Certificate2 certificate;
            try
            {
                // A private copy: the caller's objects stay the caller's to dispose.
                certificate = DerCertificate.Load(der);
            }
            catch (CryptographicException)
            {
                errors.Add(new GlobalConfError(code, "Not a valid X.509 certificate.", path));
                continue;
            }

            var problem = check(certificate);
            if (problem is not null)
            {
                errors.Add(new GlobalConfError(code, problem, path));
            }
            else if (!seen.Add(SHA256.HashData(certificate.RawData)))
            {
                errors.Add(new GlobalConfError(code, "The certificate is listed more than once.", path));
            }
            else
            {
                result.Add(certificate);
                continue;
            }

            certificate.Dispose();
        }

        return [.. result];
    }

    /// <summary>The ConfigurationSigning profile: a P-256 end-entity key for digitalSignature, with no EKU.</summary>
    private static string? CheckSigningCertificate(X509Certificate2 certificate)
    {
        if (EcKeys.CheckP256(certificate.PublicKey) is { } keyError)
        {
            return keyError.Message;
        }

        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true })
        {
            return "A CA certificate cannot be a configuration-signing certificate.";
        }

        if (certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is not { } usage
            || !usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            return "A configuration-signing certificate needs the digitalSignature key usage.";
        }

        // An EKU means it was made for something else (TLS, time-stamps, OCSP).
        if (certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Any())
        {
            return "A configuration-signing certificate has no extended key usage; this one has (it was made for something else).";
        }

        return null;
    }

    /// <summary>
    /// Any CA certificate: the registry's TLS certificate may come from the bus's own CA or from
    /// a public one, whose keys need not be P-256.
    /// </summary>
    private static string? CheckTrustRoot(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true }
            ? null
            : "A TLS trust root must be a CA certificate (basicConstraints CA).";

    /// <summary>The registry's TLS certificate is a server's end-entity certificate.</summary>
    private static string? CheckRegistryCertificate(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true }
            ? "A registry TLS certificate is the registry's own server certificate, not a CA."
            : null;

    private static byte[]?[] DecodeAll(string[] pems, string field, string code, List<GlobalConfError> errors)
    {
        var result = new byte[]?[pems.Length];
        for (var i = 0; i < pems.Length; i++)
        {
            result[i] = DecodePem(pems[i]);
            if (result[i] is null)
            {
                errors.Add(new GlobalConfError(
                    code,
                    "Not a single PEM CERTIFICATE block.",
                    string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]")));
            }
        }

        return result;
    }

    /// <summary>Exactly one CERTIFICATE block, with nothing but white space around it.</summary>
    private static byte[]? DecodePem(string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields)
            || !pem.AsSpan()[fields.Label].SequenceEqual(CertificateLabel)
            || !pem.AsSpan(0, fields.Location.Start.Value).IsWhiteSpace()
            || !pem.AsSpan(fields.Location.End.Value).IsWhiteSpace())
        {
            return null;
        }

        var der = new byte[fields.DecodedDataLength];
        return Convert.TryFromBase64Chars(pem.AsSpan()[fields.Base64Data], der, out var written) && written == der.Length
            ? der
            : null;
    }

    private static string? RequiredString(Dictionary<string, JsonElement> fields, string name, List<GlobalConfError> errors)
    {
        if (!fields.TryGetValue(name, out var value))
        {
            errors.Add(Malformed(name, $"Field \"{name}\" is missing."));
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(Malformed(name, $"Field \"{name}\" must be a string."));
            return null;
        }

        return value.GetString();
    }

    private static string[]? RequiredStringArray(Dictionary<string, JsonElement> fields, string name, List<GlobalConfError> errors)
    {
        if (!fields.TryGetValue(name, out var value))
        {
            errors.Add(Malformed(name, $"Field \"{name}\" is missing."));
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            errors.Add(Malformed(name, $"Field \"{name}\" must be an array of PEM strings."));
            return null;
        }

        return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    private static GlobalConfError Malformed(string path, string message) =>
        new(GlobalConfErrors.AnchorMalformed, message, IdentifierSyntax.Quote(path));

    private static void WritePemArray(Utf8JsonWriter writer, string name, X509Certificate2[] certificates)
    {
        writer.WriteStartArray(name);
        foreach (var certificate in certificates)
        {
            writer.WriteStringValue(certificate.ExportCertificatePem() + "\n");
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// Lines of ASCII, each ending in "\n": the format, the instance, the normalized registry
    /// address, then the SHA-256 of each signing certificate and each TLS root, sorted, so the
    /// order in the file does not matter. Reproducible with sha256sum (see the design page).
    /// </summary>
    private string ComputeFingerprint()
    {
        var canonical = new StringBuilder();
        canonical.Append(Format).Append('\n');
        canonical.Append("instance=").Append(Instance).Append('\n');
        foreach (var address in registryAddresses)
        {
            canonical.Append("registry-address=").Append(address).Append('\n');
        }
        foreach (var hash in signingCertificateSha256.Select(Convert.ToHexStringLower).Order(StringComparer.Ordinal))
        {
            canonical.Append("configuration-signing-certificate-sha256=").Append(hash).Append('\n');
        }

        foreach (var hash in registryTlsTrustRoots.Select(c => Convert.ToHexStringLower(SHA256.HashData(c.RawData))).Order(StringComparer.Ordinal))
        {
            canonical.Append("registry-tls-trust-root-sha256=").Append(hash).Append('\n');
        }

        foreach (var hash in registryTlsCertificateSha256.Select(Convert.ToHexStringLower).Order(StringComparer.Ordinal))
        {
            canonical.Append("registry-tls-certificate-sha256=").Append(hash).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(canonical.ToString())));
    }
}
