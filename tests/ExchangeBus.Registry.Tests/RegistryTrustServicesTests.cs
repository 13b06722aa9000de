// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.Registry.Tests.TrustServices;

namespace ExchangeBus.Registry.Tests;

/// <summary>
/// The registry's own TSA and OCSP endpoints, as openssl sees them: a certificate the registry
/// issued answers good, then revoked once the operator revokes it with the command line.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class RegistryTrustServicesTests(StorageEngine engine) : OnEachEngine(engine)
{
    private RegistryFixture _registry = null!;
    private string _work = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync(autoApprove: true);
        _work = Directory.CreateTempSubdirectory("xbus-trust-").FullName;
        File.Copy(Path.Combine(_registry.KeysDirectory, DevelopmentPki.RootCertificateFile), Path.Combine(_work, "root.pem"));
        File.Copy(Path.Combine(_registry.KeysDirectory, DevelopmentPki.TimeStampingCertificateFile), Path.Combine(_work, "tsa.pem"));
    }

    [TearDown]
    public async Task TearDown()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public async Task OpensslOcsp_GoodThenRevokedThroughTheCommandLine()
    {
        using (var admin = _registry.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
            await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/H01", Name = "MPS" }).ResponseAsync;
        }

        using var a = EcKeys.GenerateP256();
        using var s = EcKeys.GenerateP256();
        using var anonymous = _registry.Channel(null);
        var status = await new RegistryService.RegistryServiceClient(anonymous).SubmitRegistrationAsync(NodeRegistration.Create(NodeId.Parse("VN/GOV/H01/ss1"), "127.0.0.1:5500", a, s)).ResponseAsync;
        var pem = new string(System.Security.Cryptography.PemEncoding.Write("CERTIFICATE", status.SigningCertificate.ToByteArray()));
        await File.WriteAllTextAsync(Path.Combine(_work, "signing.pem"), pem);
        string[] ask = ["ocsp", "-issuer", "root.pem", "-cert", "signing.pem", "-url", _registry.Server.HttpAddress + "/ocsp", "-CAfile", "root.pem", "-resp_text"];

        var good = await OpenSsl.RunOkAsync(_work, ask);
        Assert.That(good.All, Does.Contain("signing.pem: good"));
        Assert.That(good.All, Does.Contain("Response verify OK"));

        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(status.SigningCertificate.Span);
        var keys = _registry.KeysDirectory;
        var revoke = await Xbus.RunAsync("registry", "cert", "revoke", certificate.SerialNumber, "--reason", "keyCompromise",
            "--registry", _registry.Server.GrpcAddress,
            "--admin-cert", Path.Combine(keys, DevelopmentPki.AdministratorCertificateFile),
            "--admin-key", Path.Combine(keys, DevelopmentPki.AdministratorKeyFile),
            "--trust-root", Path.Combine(keys, DevelopmentPki.RootCertificateFile),
            "--registry-cert", Path.Combine(keys, DevelopmentPki.RegistryTlsCertificateFile));
        Assert.That(revoke.ExitCode, Is.Zero, revoke.Error);

        var revoked = await OpenSsl.RunOkAsync(_work, ask);
        Assert.That(revoked.All, Does.Contain("signing.pem: revoked"));
        Assert.That(revoked.All, Does.Contain("Reason: keyCompromise"));
    }

    [Test]
    public async Task OpensslTs_TokenFromTheRegistryVerifies_AndTamperedDataDoesNot()
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "data.txt"), "tree head 42");
        await OpenSsl.RunOkAsync(_work, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq");
        using var http = new HttpClient();
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(_work, "q.tsq")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/timestamp-query");
        using var response = await http.PostAsync(new Uri(_registry.Server.HttpAddress + "/tsa"), content);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/timestamp-reply"));
        await File.WriteAllBytesAsync(Path.Combine(_work, "r.tsr"), await response.Content.ReadAsByteArrayAsync());

        var verify = await OpenSsl.RunOkAsync(_work, "ts", "-verify", "-data", "data.txt", "-in", "r.tsr", "-CAfile", "root.pem", "-untrusted", "tsa.pem");
        Assert.That(verify.All, Does.Contain("Verification: OK"));

        await File.WriteAllTextAsync(Path.Combine(_work, "data.txt"), "tree head 43");
        var tampered = await OpenSsl.RunAsync(_work, "ts", "-verify", "-data", "data.txt", "-in", "r.tsr", "-CAfile", "root.pem", "-untrusted", "tsa.pem");
        Assert.That(tampered.ExitCode, Is.Not.Zero);
    }
}
