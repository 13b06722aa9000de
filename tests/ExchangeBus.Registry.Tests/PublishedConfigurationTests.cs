// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Registry.Tests.Infrastructure;
using Google.Protobuf;

namespace ExchangeBus.Registry.Tests;

/// <summary>What the registry publishes, checked by the verifier nodes use, from the anchor the CLI exports.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class PublishedConfigurationTests(StorageEngine engine) : OnEachEngine(engine)
{
    private RegistryFixture _registry = null!;
    private ConfigurationAnchor _anchor = null!;

    [SetUp]
    public async Task SetUp()
    {
        _registry = await StartRegistryAsync();
        using var admin = _registry.AdminChannel();
        await new RegistryManagement.RegistryManagementClient(admin).AddMemberClassAsync(new AddMemberClassRequest { Code = "GOV" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(admin).AddMemberAsync(new AddMemberRequest { Member = "VN/GOV/000.00.00.H01", Name = "MPS" }).ResponseAsync;
        await new RegistryManagement.RegistryManagementClient(admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = "VN/GOV/000.00.00.H01/registry" }).ResponseAsync;

        var path = Path.Combine(_registry.Directory, "anchor.json");
        string[] postgres = _registry.Postgres is { } database ? ["--postgres", database] : [];
        var export = await Xbus.RunAsync(["registry", "anchor", "export", "--data", _registry.Directory, "--out", path,
            "--registry-address", _registry.Server.GrpcAddress, .. postgres]);
        Assert.That(export.ExitCode, Is.Zero, export.Error);
        _anchor = ConfigurationAnchor.Read(path);
        Assert.That(export.Output, Does.Contain(_anchor.FingerprintForReading));
    }

    [TearDown]
    public async Task TearDown() => await _registry.DisposeAsync();

    private async Task<SignedGlobalConfiguration> FetchAsync()
    {
        using var channel = _registry.Channel(null);
        return (await new RegistryService.RegistryServiceClient(channel).GetGlobalConfigurationAsync(new GetGlobalConfigurationRequest()).ResponseAsync).Configuration;
    }

    [Test]
    public async Task Published_AcceptedByNodeVerifier_WithMembersAndTrustServices()
    {
        var result = new GlobalConfigurationVerifier(_anchor, TimeProvider.System).Verify(await FetchAsync(), installed: null);

        Assert.That(result.IsValid, Is.True, string.Join("; ", result.Errors));
        var view = result.View!;
        Assert.That(view.SubsystemExists(SubsystemId.Parse("VN/GOV/000.00.00.H01/registry")), Is.True);
        Assert.That(view.TimeStampingAuthorities.Single().Url, Is.EqualTo(_registry.Server.HttpAddress + "/tsa"));
        Assert.That(view.CertificateAuthorities.Single().OcspUrl, Is.EqualTo(_registry.Server.HttpAddress + "/ocsp"));
    }

    [Test]
    public async Task OlderVersion_RefusedAsRollback()
    {
        var older = await FetchAsync();
        using (var admin = _registry.AdminChannel())
        {
            await new RegistryManagement.RegistryManagementClient(admin).AddSubsystemAsync(new AddSubsystemRequest { Subsystem = "VN/GOV/000.00.00.H01/other" }).ResponseAsync;
        }

        var verifier = new GlobalConfigurationVerifier(_anchor, TimeProvider.System);
        var newer = verifier.Verify(await FetchAsync(), installed: null);
        Assert.That(newer.IsValid, Is.True);

        var result = verifier.Verify(older, newer.View);
        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Rollback));
    }

    [Test]
    public async Task Expired_Refused()
    {
        var signed = await FetchAsync();
        var later = new ShiftedTime(TimeSpan.FromHours(1));
        var result = new GlobalConfigurationVerifier(_anchor, later).Verify(signed, installed: null);
        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Expired));
    }

    [Test]
    public async Task ResignedWithAnotherKeyOfTheSameAuthority_Refused()
    {
        var signed = await FetchAsync();
        using var tsaKey = PemFiles.ReadPrivateKey(Path.Combine(_registry.KeysDirectory, DevelopmentPki.TimeStampingKeyFile));
        var forged = signed.Clone();
        forged.Signature = ByteString.CopyFrom(tsaKey.SignData(signed.Configuration.Span, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        var claimingAnchorSigner = new GlobalConfigurationVerifier(_anchor, TimeProvider.System).Verify(forged, installed: null);
        Assert.That(claimingAnchorSigner.Code, Is.EqualTo(GlobalConfErrors.InvalidSignature));

        using var tsa = PemFiles.ReadCertificate(Path.Combine(_registry.KeysDirectory, DevelopmentPki.TimeStampingCertificateFile));
        forged.SignerCertificateSha256 = ByteString.CopyFrom(SHA256.HashData(tsa.RawData));
        var namingItsSigner = new GlobalConfigurationVerifier(_anchor, TimeProvider.System).Verify(forged, installed: null);
        Assert.That(namingItsSigner.Code, Is.EqualTo(GlobalConfErrors.UnknownSigner));
    }

    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
