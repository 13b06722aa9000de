// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Tests.Pki;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Core.Tests.GlobalConf;

public sealed class GlobalConfigurationVerifierTests
{
    private GlobalConfTestPki pki = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp() => pki = new GlobalConfTestPki();

    [OneTimeTearDown]
    public void OneTimeTearDown() => pki.Dispose();

    // Back to the start when a test moved the shared clock on (SetUtcNow and Advance only go forward).
    [SetUp]
    public void SetUp() => pki.Clock.AdjustTime(TestClock.Start);

    [Test]
    public void Verify_SignedByAnchorKey_IsValidWithView()
    {
        var configuration = pki.Configuration(version: 7);

        var result = pki.Verifier().Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.IsValid, Is.True, result.ToString());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Code, Is.Null);
            Assert.That(result.Errors, Is.Empty);
            Assert.That(result.View!.Version, Is.EqualTo(7UL));
            Assert.That(result.ReceivedVersion, Is.EqualTo(7UL));
            Assert.That(result.View!.Instance, Is.EqualTo("VN"));
            Assert.That(result.View!.CreatedAt, Is.EqualTo(pki.Clock.GetUtcNow()));
            Assert.That(result.View!.ExpiresAt, Is.EqualTo(pki.Clock.GetUtcNow().AddSeconds(600)));
            Assert.That(result.View!.FindMember(MemberId.Parse("VN/GOV/000.00.00.G01"))?.Name, Is.EqualTo("Ministry of Justice"));
        }
    }

    [Test]
    public void Verify_ViewHashIsSha256OfTheSignedBytes()
    {
        var signed = pki.Signer.Sign(pki.Configuration());

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.IsValid, Is.True, result.ToString());
        Assert.That(result.View!.ConfigurationSha256, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(signed.Configuration.Span))));
    }

    [Test]
    public void Verify_NewerThanInstalled_IsValid()
    {
        var verifier = pki.Verifier();
        var installed = VerifiedView(verifier, pki.Configuration(version: 4));

        var result = verifier.Verify(pki.SignedBytes(pki.Configuration(version: 5)), installed);

        Assert.That(result.IsValid, Is.True, result.ToString());
        Assert.That(result.View!.Version, Is.EqualTo(5UL));
    }

    [Test]
    public void Verify_AnchorWithTwoSigningCertificates_AcceptsEither()
    {
        // Key rollover: the anchor lists the old and the new certificate for a while.
        var anchor = ConfigurationAnchor.Create(
            "VN", GlobalConfTestPki.RegistryAddress, [pki.SigningCertificate, pki.OtherSigningCertificate], [pki.TlsRoot.Certificate], pki.Clock.GetUtcNow());
        var verifier = new GlobalConfigurationVerifier(anchor, pki.Clock);

        var byOld = verifier.Verify(pki.Signer.Sign(pki.Configuration()), installed: null);
        var byNew = verifier.Verify(pki.OtherSigner.Sign(pki.Configuration()), installed: null);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(byOld.IsValid, Is.True, byOld.ToString());
            Assert.That(byNew.IsValid, Is.True, byNew.ToString());
        }
    }

    [Test]
    public void Verify_SignedByAnotherKey_UnknownSigner()
    {
        var signed = pki.OtherSigner.Sign(pki.Configuration());

        var result = pki.Verifier().Verify(signed.ToByteArray(), installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.UnknownSigner));
        Assert.That(result.ReceivedVersion, Is.Null, "nothing of an unverified configuration is reported");
    }

    [Test]
    public void Verify_AnotherKeyClaimingTheAnchorCertificate_InvalidSignature()
    {
        var signed = pki.OtherSigner.Sign(pki.Configuration());
        signed.SignerCertificateSha256 = ByteString.CopyFrom(SHA256.HashData(pki.SigningCertificate.RawData));

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.InvalidSignature));
    }

    [Test]
    public void Verify_TamperedByteInConfiguration_InvalidSignature()
    {
        var signed = pki.Signer.Sign(pki.Configuration());
        var bytes = signed.Configuration.ToByteArray();

        // Inside the name "Ministry of Justice": still a well-formed configuration.
        var at = bytes.AsSpan().IndexOf("Justice"u8);
        bytes[at] = (byte)'j';
        signed.Configuration = ByteString.CopyFrom(bytes);
        Assert.That(GlobalConfiguration.Parser.ParseFrom(bytes).Members[0].Name, Is.EqualTo("Ministry of justice"));

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.InvalidSignature));
    }

    [TestCase(10)]
    [TestCase(40)]
    [TestCase(-1)]
    public void Verify_TamperedSignature_InvalidSignature(int index)
    {
        var signed = pki.Signer.Sign(pki.Configuration());
        var signature = signed.Signature.ToByteArray();
        signature[index < 0 ? signature.Length - 1 : index] ^= 0x01;
        signed.Signature = ByteString.CopyFrom(signature);

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.InvalidSignature));
    }

    [Test]
    public void Verify_SignatureWithTrailingByte_InvalidSignature()
    {
        var signed = pki.Signer.Sign(pki.Configuration());
        signed.Signature = ByteString.CopyFrom([.. signed.Signature.Span, 0]);

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.InvalidSignature));
    }

    [Test]
    public void Verify_OlderThanInstalled_Rollback()
    {
        var verifier = pki.Verifier();
        var installed = VerifiedView(verifier, pki.Configuration(version: 5));

        var result = verifier.Verify(pki.SignedBytes(pki.Configuration(version: 4)), installed);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Rollback));
        Assert.That(result.ReceivedVersion, Is.EqualTo(4UL));
        Assert.That(result.View, Is.Null);
    }

    [Test]
    public void Verify_SameBytesAsInstalled_NotNewer()
    {
        var verifier = pki.Verifier();
        var bytes = pki.SignedBytes(pki.Configuration(version: 5));
        var installed = verifier.Verify(bytes, installed: null).View!;

        var result = verifier.Verify(bytes, installed);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.NotNewer));
    }

    [Test]
    public void Verify_SameVersionOtherContent_Rollback()
    {
        var verifier = pki.Verifier();
        var installed = VerifiedView(verifier, pki.Configuration(version: 5));
        var other = pki.Configuration(version: 5);
        other.Members[0].Name = "Ministry of Justice (renamed)";

        var result = verifier.Verify(pki.SignedBytes(other), installed);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Rollback));
        Assert.That(result.Errors[0].Message, Does.Contain("same version"));
    }

    [Test]
    public void Verify_AfterExpiry_Expired()
    {
        var bytes = pki.SignedBytes(pki.Configuration());
        pki.Clock.Advance(TimeSpan.FromSeconds(601));

        var result = pki.Verifier().Verify(bytes, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Expired));
    }

    [Test]
    public void Verify_AtTheExpiryInstant_Expired()
    {
        var bytes = pki.SignedBytes(pki.Configuration());
        pki.Clock.Advance(TimeSpan.FromSeconds(600));

        var result = pki.Verifier().Verify(bytes, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Expired));
    }

    [Test]
    public void Verify_JustBeforeExpiry_IsValid()
    {
        var bytes = pki.SignedBytes(pki.Configuration());
        pki.Clock.Advance(TimeSpan.FromSeconds(599));

        var result = pki.Verifier().Verify(bytes, installed: null);

        Assert.That(result.IsValid, Is.True, result.ToString());
    }

    [Test]
    public void Verify_CreatedBeyondTheSkew_FromTheFuture()
    {
        var configuration = pki.Configuration();
        var now = pki.Clock.GetUtcNow();
        configuration.CreatedAt = Timestamp.FromDateTimeOffset(now.AddMinutes(6));
        configuration.ExpiresAt = Timestamp.FromDateTimeOffset(now.AddMinutes(16));

        var result = pki.Verifier().Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.FromTheFuture));
    }

    [Test]
    public void Verify_CreatedWithinTheSkew_IsValid()
    {
        var configuration = pki.Configuration();
        var now = pki.Clock.GetUtcNow();
        configuration.CreatedAt = Timestamp.FromDateTimeOffset(now.AddMinutes(4));
        configuration.ExpiresAt = Timestamp.FromDateTimeOffset(now.AddMinutes(14));

        var result = pki.Verifier().Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.IsValid, Is.True, result.ToString());
    }

    [Test]
    public void Verify_SkewIsConfigurable()
    {
        var configuration = pki.Configuration();
        var now = pki.Clock.GetUtcNow();
        configuration.CreatedAt = Timestamp.FromDateTimeOffset(now.AddMinutes(4));
        configuration.ExpiresAt = Timestamp.FromDateTimeOffset(now.AddMinutes(14));
        var verifier = pki.Verifier(new GlobalConfigurationVerifierOptions { MaxClockSkew = TimeSpan.FromMinutes(1) });

        var result = verifier.Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.FromTheFuture));
    }

    [Test]
    public void Verify_OtherInstance_WrongInstance()
    {
        var configuration = pki.Configuration();
        configuration.Instance = "EE";

        var result = pki.Verifier().Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.WrongInstance));
    }

    [Test]
    public void Verify_MessageOverTheBound_TooLarge()
    {
        var bytes = pki.SignedBytes(pki.Configuration());
        var verifier = pki.Verifier(new GlobalConfigurationVerifierOptions { MaxConfigurationBytes = 100 });

        // Well over the bound plus envelope allowance: refused before parsing.
        var oversized = new byte[100 + 4096 + 1];
        bytes.CopyTo(oversized, 0);
        var result = verifier.Verify(oversized, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.TooLarge));
    }

    [Test]
    public void Verify_ConfigurationOverTheBound_TooLarge()
    {
        var bytes = pki.SignedBytes(pki.Configuration());
        var verifier = pki.Verifier(new GlobalConfigurationVerifierOptions { MaxConfigurationBytes = 100 });

        var result = verifier.Verify(bytes, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.TooLarge));
    }

    [Test]
    public void Verify_ConfigurationAtTheBound_IsValid()
    {
        var signed = pki.Signer.Sign(pki.Configuration());
        var verifier = pki.Verifier(new GlobalConfigurationVerifierOptions { MaxConfigurationBytes = signed.Configuration.Length });

        var result = verifier.Verify(signed.ToByteArray(), installed: null);

        Assert.That(result.IsValid, Is.True, result.ToString());
    }

    [Test]
    public void Verify_GarbageBytes_Malformed()
    {
        var result = pki.Verifier().Verify("this is not a protobuf message"u8, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Malformed));
    }

    [Test]
    public void Verify_EmptyMessage_Malformed()
    {
        var result = pki.Verifier().Verify(ReadOnlySpan<byte>.Empty, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Malformed));
    }

    [Test]
    public void Verify_ShortSignerHash_Malformed()
    {
        var signed = pki.Signer.Sign(pki.Configuration());
        signed.SignerCertificateSha256 = ByteString.CopyFrom(signed.SignerCertificateSha256.Span[..20]);

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Malformed));
    }

    [Test]
    public void Verify_SignedBytesThatAreNotAConfiguration_Malformed()
    {
        // What a registry bug would publish: a valid signature over bytes that do not parse.
        byte[] garbage = [0x00, 0x01, 0x02];
        var signed = new SignedGlobalConfiguration
        {
            Configuration = ByteString.CopyFrom(garbage),
            Signature = ByteString.CopyFrom(pki.SigningKey.SignData(garbage, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
            SignerCertificateSha256 = ByteString.CopyFrom(SHA256.HashData(pki.SigningCertificate.RawData)),
        };

        var result = pki.Verifier().Verify(signed, installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.Malformed));
    }

    [Test]
    public void Verify_SeveralContentProblems_ReportsThemAll()
    {
        var configuration = pki.Configuration();
        configuration.Members.Add(configuration.Members[0].Clone());                 // duplicate member
        configuration.Nodes[1].OwnerCode = "000.00.00.X99";                           // owner not a member
        configuration.Members[1].Subsystems.Add("bad/code");                          // not an identifier
        configuration.Parameters.TimeStampingMaxBatch = 0;                            // out of range

        var result = pki.Verifier().Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.InvalidContent));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Errors.Select(e => e.Code), Is.All.EqualTo(GlobalConfErrors.InvalidContent));
            Assert.That(result.Errors.Select(e => e.Path), Is.EquivalentTo(new[]
            {
                "members[3]",
                "nodes[1]",
                "members[1].subsystems[1]",
                "parameters.time_stamping_max_batch",
            }));
            Assert.That(result.ReceivedVersion, Is.EqualTo(1UL));
        }
    }

    [Test]
    public void Verify_MissingVersionAndTimes_InvalidContentWithEveryProblem()
    {
        var configuration = pki.Configuration();
        configuration.Version = 0;
        configuration.ExpiresAt = null;
        configuration.Members[2].Name = "";

        var result = pki.Verifier().Verify(pki.SignedBytes(configuration), installed: null);

        Assert.That(result.Code, Is.EqualTo(GlobalConfErrors.InvalidContent));
        Assert.That(result.Errors.Select(e => e.Path), Is.EquivalentTo(new[] { "version", "expires_at", "members[2].name" }));
    }

    [Test]
    public void IsExpired_FollowsTheClock()
    {
        var verifier = pki.Verifier();
        var view = VerifiedView(verifier, pki.Configuration());

        var before = verifier.IsExpired(view);
        pki.Clock.Advance(TimeSpan.FromSeconds(600));
        var after = verifier.IsExpired(view);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before, Is.False);
            Assert.That(after, Is.True);
            Assert.That(view.IsExpired(view.ExpiresAt.AddTicks(-1)), Is.False);
            Assert.That(view.IsExpired(view.ExpiresAt), Is.True);
        }
    }

    [Test]
    public void Constructor_NonPositiveBound_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => pki.Verifier(new GlobalConfigurationVerifierOptions { MaxConfigurationBytes = 0 }));
    }

    private GlobalConfigurationView VerifiedView(GlobalConfigurationVerifier verifier, GlobalConfiguration configuration)
    {
        var result = verifier.Verify(pki.SignedBytes(configuration), installed: null);
        Assert.That(result.IsValid, Is.True, result.ToString());
        return result.View!;
    }
}
