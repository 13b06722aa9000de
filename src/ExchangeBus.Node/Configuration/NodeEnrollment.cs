// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Node.GlobalConf;
using Grpc.Core;

namespace ExchangeBus.Node.Configuration;

/// <summary>
/// How a node joins the bus from its anchor: it makes its two keys (they never leave the data
/// folder), sends the registry CSRs signed with the authentication key, and once the central
/// authority approves, fetches its certificates and checks they are for its own keys.
/// </summary>
public static class NodeEnrollment
{
    public static async Task<RegistrationStatus> InitAsync(
        NodePaths paths, string anchorPath, NodeId node, string address, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(node);
        if (File.Exists(paths.Settings))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"{paths.DataDirectory} already holds a node.");
        }

        var anchor = ConfigurationAnchor.Read(anchorPath);
        anchor.EnsureRegistryPinned();
        if (!string.Equals(anchor.Instance, node.Owner.Instance, StringComparison.Ordinal))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"The anchor is for instance {anchor.Instance}, the node is in {node.Owner.Instance}.");
        }

        PemFiles.EnsurePrivateDirectory(paths.DataDirectory);
        PemFiles.EnsurePrivateDirectory(paths.Keys);
        anchor.Write(paths.Anchor, overwrite: true);
        using var authKey = EcKeys.GenerateP256();
        using var signingKey = EcKeys.GenerateP256();
        PemFiles.WritePrivateKey(paths.AuthenticationKey, authKey);
        PemFiles.WritePrivateKey(paths.SigningKey, signingKey);

        using var channel = RegistryChannel.Create(anchor, timeProvider);
        var status = await new RegistryService.RegistryServiceClient(channel).SubmitRegistrationAsync(NodeRegistration.Create(node, address, authKey, signingKey), new CallOptions(deadline: timeProvider.GetUtcNow().AddSeconds(30).UtcDateTime, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);

        new NodeSettings { Node = node.ToString(), Address = address, RegistrationId = status.RegistrationId }.Write(paths.Settings);
        if (status.State == RegistrationState.Approved)
        {
            SaveCertificates(paths, status);
        }

        return status;
    }

    /// <summary>Asks the registry how the registration stands; saves the certificates once approved.</summary>
    public static async Task<RegistrationStatus> FetchAsync(NodePaths paths, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var settings = NodeSettings.Read(paths.Settings);
        var anchor = ConfigurationAnchor.Read(paths.Anchor);
        using var channel = RegistryChannel.Create(anchor, timeProvider);
        var status = await new RegistryService.RegistryServiceClient(channel).GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = settings.RegistrationId }, new CallOptions(deadline: timeProvider.GetUtcNow().AddSeconds(30).UtcDateTime, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
        if (status.State == RegistrationState.Approved && !NodeKeys.CertificatesPresent(paths))
        {
            SaveCertificates(paths, status);
        }

        return status;
    }

    /// <summary>
    /// What the node's operator reads out to the central authority, out of band, so that the
    /// administrator approves this node's request and not another one for the same node
    /// (<see cref="KeyFingerprint"/>).
    /// </summary>
    public static string AuthenticationKeyFingerprint(NodePaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        using var key = PemFiles.ReadPrivateKey(paths.AuthenticationKey);
        return KeyFingerprint.Of(key);
    }

    private static void SaveCertificates(NodePaths paths, RegistrationStatus status)
    {
        using var auth = X509CertificateLoader.LoadCertificate(status.AuthCertificate.Span);
        using var signing = X509CertificateLoader.LoadCertificate(status.SigningCertificate.Span);
        Require(auth, paths.AuthenticationKey);
        Require(signing, paths.SigningKey);
        PemFiles.WriteCertificate(paths.AuthenticationCertificate, auth, overwrite: true);
        PemFiles.WriteCertificate(paths.SigningCertificate, signing, overwrite: true);
    }

    /// <summary>A registry that answered with a certificate for another key is not believed.</summary>
    private static void Require(X509Certificate2 certificate, string keyPath)
    {
        using var key = PemFiles.ReadPrivateKey(keyPath);
        using var publicKey = certificate.GetECDsaPublicKey();
        if (publicKey is null || !CryptographicOperations.FixedTimeEquals(publicKey.ExportSubjectPublicKeyInfo(), key.ExportSubjectPublicKeyInfo()))
        {
            throw new NodeConfigurationException(NodeErrors.SettingsInvalid, $"The registry's certificate {certificate.Subject} is not for the key in {keyPath}.");
        }
    }

}
