// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExchangeBus.Core.Pki.Internal;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// PEM files for keys and certificates. Private keys are PKCS#8 ("PRIVATE KEY"), created
/// owner-readable only (0600) and written atomically; certificates are public (0644).
/// </summary>
public static class PemFiles
{
    /// <summary>Keys and certificates are a few KiB; anything bigger is not one of ours.</summary>
    public const int MaxFileBytes = 64 * 1024;

    private const string Pkcs8Label = "PRIVATE KEY";
    private const string Sec1Label = "EC PRIVATE KEY";
    private const string CertificateLabel = "CERTIFICATE";

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Writes <paramref name="key"/> as a PKCS#8 PEM file with mode 0600, via a temporary file and
    /// a rename. The parent directory is created 0700 if missing.
    /// </summary>
    /// <exception cref="PkiException"><see cref="PkiErrors.FileAlreadyExists"/> when the file exists and <paramref name="overwrite"/> is false.</exception>
    public static void WritePrivateKey(string path, ECDsa key, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);
        EnsureParentDirectory(path);

        // Every copy of the key material is wiped once written; strings could not be.
        var der = key.ExportPkcs8PrivateKey();
        var pem = PemEncoding.Write(Pkcs8Label, der);
        var bytes = new byte[Encoding.ASCII.GetByteCount(pem) + 1];
        try
        {
            var written = Encoding.ASCII.GetBytes(pem, bytes);
            bytes[written] = (byte)'\n';
            SecureFile.WriteAtomically(path, bytes, SecureFile.OwnerReadWrite, overwrite);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
            Array.Clear(pem);
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Reads a P-256 private key from a PKCS#8 ("PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY") PEM
    /// file. Like ssh, refuses a key file that group or others may access.
    /// </summary>
    /// <exception cref="PkiException">With a code from <see cref="PkiErrors"/>.</exception>
    public static ECDsa ReadPrivateKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsWindows() && File.Exists(path) && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
        {
            throw new PkiException(
                PkiErrors.KeyInsecurePermissions,
                $"Private key file '{path}' is accessible by group or others; it must be 0600 (chmod 600).");
        }

        var bytes = SecureFile.ReadBounded(path, MaxFileBytes);
        var chars = Encoding.ASCII.GetChars(bytes);
        byte[]? der = null;
        try
        {
            if (!PemEncoding.TryFind(chars, out var fields))
            {
                throw new PkiException(PkiErrors.KeyMalformed, $"'{path}' holds no PEM block.");
            }

            var label = chars.AsSpan(fields.Label);
            var isPkcs8 = label.SequenceEqual(Pkcs8Label);
            if (!isPkcs8 && !label.SequenceEqual(Sec1Label))
            {
                throw new PkiException(
                    PkiErrors.KeyMalformed,
                    $"'{path}' holds a '{label}' PEM block, not a private key.");
            }

            der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(chars.AsSpan(fields.Base64Data), der, out _))
            {
                throw new PkiException(PkiErrors.KeyMalformed, $"'{path}' holds invalid base64.");
            }

            var key = ImportPrivateKey(der, isPkcs8, path);
            if (!EcKeys.IsP256(key))
            {
                key.Dispose();
                throw new PkiException(
                    PkiErrors.KeyUnsupportedCurve,
                    $"'{path}' holds an EC key that is not on the named curve P-256.");
            }

            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            Array.Clear(chars);
            if (der is not null)
            {
                CryptographicOperations.ZeroMemory(der);
            }
        }
    }

    /// <summary>Writes a certificate as PEM (0644), atomically.</summary>
    /// <exception cref="PkiException"><see cref="PkiErrors.FileAlreadyExists"/> when the file exists and <paramref name="overwrite"/> is false.</exception>
    public static void WriteCertificate(string path, X509Certificate2 certificate, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(certificate);
        EnsureParentDirectory(path);
        var pem = certificate.ExportCertificatePem() + "\n";
        SecureFile.WriteAtomically(path, Encoding.ASCII.GetBytes(pem), SecureFile.PublicReadable, overwrite);
    }

    /// <summary>Reads the first certificate of a PEM file (or a DER file).</summary>
    /// <exception cref="PkiException">With a code from <see cref="PkiErrors"/>.</exception>
    public static X509Certificate2 ReadCertificate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = SecureFile.ReadBounded(path, MaxFileBytes);
        try
        {
            return LoadCertificate(bytes);
        }
        catch (CryptographicException ex)
        {
            throw new PkiException(PkiErrors.CertificateMalformed, $"'{path}' holds no valid certificate.", ex);
        }
    }

    /// <summary>Writes PEM text that holds nothing secret (a CSR, a manifest) atomically, 0644.</summary>
    public static void WritePublicText(string path, string content, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        EnsureParentDirectory(path);
        SecureFile.WriteAtomically(path, Encoding.UTF8.GetBytes(content), SecureFile.PublicReadable, overwrite);
    }

    /// <summary>Creates <paramref name="path"/> with mode 0700 when it does not exist yet.</summary>
    public static void EnsurePrivateDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SecureFile.EnsureDirectory(path);
    }

    internal static X509Certificate2 LoadCertificate(ReadOnlySpan<byte> bytes)
    {
        if (LooksLikePem(bytes))
        {
            var chars = Encoding.ASCII.GetString(bytes);
            foreach (var (label, der) in EnumeratePem(chars))
            {
                if (string.Equals(label, CertificateLabel, StringComparison.Ordinal))
                {
                    return X509CertificateLoader.LoadCertificate(der);
                }
            }

            throw new CryptographicException("No CERTIFICATE PEM block found.");
        }

        return X509CertificateLoader.LoadCertificate(bytes);
    }

    internal static bool LooksLikePem(ReadOnlySpan<byte> bytes) => bytes.IndexOf("-----BEGIN "u8) >= 0;

    internal static IEnumerable<(string Label, byte[] Der)> EnumeratePem(string text)
    {
        var offset = 0;
        while (offset < text.Length && PemEncoding.TryFind(text.AsSpan(offset), out var fields))
        {
            var label = text.AsSpan(offset)[fields.Label].ToString();
            var der = Convert.FromBase64String(text.AsSpan(offset)[fields.Base64Data].ToString());
            offset += fields.Location.End.GetOffset(text.Length - offset);
            yield return (label, der);
        }
    }

    private static ECDsa ImportPrivateKey(byte[] der, bool isPkcs8, string path)
    {
        if (isPkcs8)
        {
            // Name the algorithm of a PKCS#8 key that is not EC (RSA, Ed25519, ...) rather than
            // calling it malformed.
            string? algorithm;
            try
            {
                algorithm = Pkcs8PrivateKeyInfo.Decode(der, out _, skipCopy: true).AlgorithmId.Value;
            }
            catch (CryptographicException ex)
            {
                throw new PkiException(PkiErrors.KeyMalformed, $"'{path}' does not hold a valid PKCS#8 key.", ex);
            }

            if (!string.Equals(algorithm, EcKeys.EcPublicKeyOid, StringComparison.Ordinal))
            {
                throw new PkiException(
                    PkiErrors.KeyUnsupportedAlgorithm,
                    $"'{path}' holds a key of algorithm {algorithm}; the bus uses ECDSA P-256 keys only.");
            }
        }

        var key = ECDsa.Create();
        try
        {
            if (isPkcs8)
            {
                key.ImportPkcs8PrivateKey(der, out var read);
                if (read != der.Length)
                {
                    throw new CryptographicException("Trailing data after the key.");
                }
            }
            else
            {
                key.ImportECPrivateKey(der, out var read);
                if (read != der.Length)
                {
                    throw new CryptographicException("Trailing data after the key.");
                }
            }

            return key;
        }
        catch (CryptographicException ex)
        {
            key.Dispose();

            // A PKCS#8 file with an RSA key lands here too; the message says what is accepted
            // without echoing anything of the file.
            throw new PkiException(
                PkiErrors.KeyMalformed,
                $"'{path}' does not hold a usable EC private key (ECDSA P-256, PKCS#8 or SEC 1).",
                ex);
        }
    }

    private static void EnsureParentDirectory(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            SecureFile.EnsureDirectory(directory);
        }
    }
}
