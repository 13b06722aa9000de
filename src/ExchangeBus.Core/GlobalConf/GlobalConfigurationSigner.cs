// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.Pki;
using Google.Protobuf;

namespace ExchangeBus.Core.GlobalConf;

/// <summary>
/// Signs global configurations with the central authority's configuration-signing key
/// (docs/design/global-configuration.md): the configuration is serialized once and those exact
/// bytes are signed with ECDSA P-256 / SHA-256, DER-encoded (RFC 3279), and carried as they are.
/// </summary>
/// <remarks>
/// The signer does not own the key or the certificate: whoever loaded them disposes them. An
/// <see cref="ECDsa"/> key is safe to use from several threads for signing. The signer does not
/// check content; the registry validates with <see cref="GlobalConfigurationView.TryCreate"/>
/// before signing, so that it never publishes what every node would refuse.
/// </remarks>
public sealed class GlobalConfigurationSigner
{
    private readonly ECDsa privateKey;
    private readonly byte[] certificateSha256;

    /// <param name="certificate">The configuration-signing certificate the nodes' anchors pin.</param>
    /// <param name="privateKey">Its P-256 private key.</param>
    /// <exception cref="ArgumentException">The key is not P-256 or does not belong to the certificate.</exception>
    public GlobalConfigurationSigner(X509Certificate2 certificate, ECDsa privateKey)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(privateKey);
        if (!EcKeys.IsP256(privateKey))
        {
            throw new ArgumentException("Configuration-signing keys are ECDSA P-256.", nameof(privateKey));
        }

        // A mismatched pair would produce configurations that every node refuses as
        // InvalidSignature; better to find out when the registry starts.
        if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan()
                .SequenceEqual(privateKey.ExportSubjectPublicKeyInfo()))
        {
            throw new ArgumentException("The private key does not belong to the certificate.", nameof(privateKey));
        }

        Certificate = certificate;
        this.privateKey = privateKey;
        certificateSha256 = SHA256.HashData(certificate.RawData);
    }

    /// <summary>The configuration-signing certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Serializes <paramref name="configuration"/> once and signs exactly those bytes.</summary>
    public SignedGlobalConfiguration Sign(GlobalConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var bytes = configuration.ToByteArray();
        var signature = privateKey.SignData(bytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        // The arrays are ours and never written again, so wrapping them saves a copy of a
        // configuration that can be megabytes.
        return new SignedGlobalConfiguration
        {
            Configuration = UnsafeByteOperations.UnsafeWrap(bytes),
            Signature = UnsafeByteOperations.UnsafeWrap(signature),
            SignerCertificateSha256 = ByteString.CopyFrom(certificateSha256),
        };
    }
}
