// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Node.Configuration;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>`xbus node client add --tls-cert`, run as the operator would, against a real node.json.</summary>
public sealed class NodeClientCommandTests
{
    private const string Node = "VN/GOV/000.00.00.G01/ss1";
    private const string Subsystem = "VN/GOV/000.00.00.G01/licence";

    private string _data = null!;
    private string _certificate = null!;
    private string _fingerprint = null!;

    [SetUp]
    public void SetUp()
    {
        _data = Directory.CreateTempSubdirectory("xbus-cli-").FullName;
        new NodeSettings { Node = Node, Address = "127.0.0.1:5500" }.Write(new NodePaths(_data).Settings);
        using var key = EcKeys.GenerateP256();
        using var certificate = new CertificateRequest("CN=licence system", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = Path.Combine(_data, "system.pem");
        File.WriteAllText(_certificate, certificate.ExportCertificatePem());
        _fingerprint = Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_data, recursive: true);

    [Test]
    public async Task ClientAdd_WithTheSystemsCertificate_RegistersItsSha256()
    {
        var (exit, output) = await Xbus("node", "client", "add", Subsystem, "--data", _data, "--tls-cert", _certificate);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("a running node applies it"));
        var client = NodeSettings.Read(new NodePaths(_data).Settings).Clients.Single();
        Assert.That(client.Subsystem, Is.EqualTo(Subsystem));
        Assert.That(client.TlsCertificateSha256, Is.EqualTo(_fingerprint));
    }

    [Test]
    public async Task ClientAdd_WithACertificateAndADifferentHash_IsRefused_AndNodeJsonUnchanged()
    {
        var before = File.ReadAllBytes(new NodePaths(_data).Settings);

        var (exit, output) = await Xbus("node", "client", "add", Subsystem, "--data", _data, "--tls-cert", _certificate, "--tls-cert-sha256", new string('A', 64));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.Contain("error Node.SettingsInvalid"));
        Assert.That(File.ReadAllBytes(new NodePaths(_data).Settings), Is.EqualTo(before));
    }

    [Test]
    public async Task ClientAdd_WithAMalformedHash_IsRefused()
    {
        var (exit, output) = await Xbus("node", "client", "add", Subsystem, "--data", _data, "--tls-cert-sha256", "abc");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.Contain("error Node.SettingsInvalid").And.Contain("64 hex digits"));
    }

    private static async Task<(int Exit, string Output)> Xbus(params string[] arguments)
    {
        var result = await XbusProcess.RunAsync(arguments);
        return (result.Exit, result.Output + result.Error);
    }
}
