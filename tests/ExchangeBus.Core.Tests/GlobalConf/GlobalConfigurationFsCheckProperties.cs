// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.GlobalConf.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Tests.Pki;
using ExchangeBus.Testing;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;

namespace ExchangeBus.Core.Tests.GlobalConf;

/// <summary>
/// FsCheck properties over <see cref="GlobalConfigurationVerifier"/> (docs/reliability.md,
/// "Random input"): no mutation of a validly signed configuration, no unsigned one and none
/// signed by a key the anchor does not list is ever accepted, and each refusal is a result with
/// one of the codes a node may see before the signature holds, never an exception.
/// </summary>
public sealed class GlobalConfigurationFsCheckProperties
{
    private const int Cases = 1_000;

    /// <summary>What bytes that are not the registry's own may earn: nothing past the signature check.</summary>
    private static readonly string[] BeforeTheSignatureHolds =
        [GlobalConfErrors.Malformed, GlobalConfErrors.TooLarge, GlobalConfErrors.UnknownSigner, GlobalConfErrors.InvalidSignature];

    private static readonly Config Run = Config.QuickThrowOnFailure.WithMaxTest(Cases);

    private GlobalConfTestPki _pki = null!;
    private byte[] _valid = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _pki = new GlobalConfTestPki();
        _valid = _pki.SignedBytes(_pki.Configuration(version: 3));
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => _pki.Dispose();

    // Back to the start when a test moved the shared clock on (SetUtcNow and Advance only go forward).
    [SetUp]
    public void SetUp() => _pki.Clock.AdjustTime(TestClock.Start);

    [Test]
    public void TheUnmutatedConfiguration_IsValid()
    {
        // The control for every property below: the same verifier accepts the original.
        var result = _pki.Verifier().Verify(_valid, installed: null);

        Assert.That(result.IsValid, Is.True, result.ToString());
    }

    [Test]
    public void AnyMutationOfTheSignedBytes_IsRefusedWithAStableCode()
    {
        var verifier = _pki.Verifier();
        Prop.ForAll(ByteMutations.Of(_valid).ToArbitrary(), mutation =>
        {
            var result = verifier.Verify(mutation.Apply(_valid), installed: null);

            Assert.That(result.IsValid, Is.False, mutation.ToString());
            Assert.That(result.Code, Is.AnyOf(BeforeTheSignatureHolds), $"{mutation}: {result}");
        }).Check(Run);
    }

    [Test]
    public void AnyMutationOfOneField_IsRefusedWithAStableCode()
    {
        // Field by field, through the parsed envelope, so every mutation reaches the field it aims at.
        var verifier = _pki.Verifier();
        var fields = from field in Gen.Choose(0, 2)
                     from mutation in ByteMutations.Of(Field(SignedGlobalConfiguration.Parser.ParseFrom(_valid), field))
                     select (field, mutation);
        Prop.ForAll(fields.ToArbitrary(), t =>
        {
            var signed = SignedGlobalConfiguration.Parser.ParseFrom(_valid);
            var mutated = ByteString.CopyFrom(t.mutation.Apply(Field(signed, t.field)));
            switch (t.field)
            {
                case 0: signed.Configuration = mutated; break;
                case 1: signed.Signature = mutated; break;
                default: signed.SignerCertificateSha256 = mutated; break;
            }

            var result = verifier.Verify(signed, installed: null);

            Assert.That(result.IsValid, Is.False, $"field {t.field}: {t.mutation}");
            Assert.That(result.Code, Is.AnyOf(BeforeTheSignatureHolds), $"field {t.field}: {t.mutation}: {result}");
        }).Check(Run);
    }

    [Test]
    public void ArbitraryBytes_AreRefusedWithAStableCode()
    {
        var verifier = _pki.Verifier();
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var result = verifier.Verify(bytes ?? [], installed: null);

            Assert.That(result.IsValid, Is.False);
            Assert.That(result.Code, Is.AnyOf(BeforeTheSignatureHolds), result.ToString());
        }).Check(Run);
    }

    [Test]
    public void AnyConfiguration_SignedByAKeyTheAnchorDoesNotList_IsRefused()
    {
        // A valid configuration-signing certificate of the same CA, but not in the anchor: whether
        // it names itself (UnknownSigner) or claims to be the anchor's key (InvalidSignature).
        var verifier = _pki.Verifier();
        var anchorKeyHash = ByteString.CopyFrom(SHA256.HashData(_pki.SigningCertificate.RawData));
        var cases = from version in Gen.Choose(1, 1_000_000)
                    from claimsAnchorKey in ArbMap.Default.GeneratorFor<bool>()
                    select (version, claimsAnchorKey);
        Prop.ForAll(cases.ToArbitrary(), t =>
        {
            var signed = _pki.OtherSigner.Sign(_pki.Configuration(version: (ulong)t.version));
            if (t.claimsAnchorKey)
            {
                signed.SignerCertificateSha256 = anchorKeyHash;
            }

            var result = verifier.Verify(signed.ToByteArray(), installed: null);

            Assert.That(result.Code, Is.EqualTo(t.claimsAnchorKey ? GlobalConfErrors.InvalidSignature : GlobalConfErrors.UnknownSigner), result.ToString());
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void AnyConfiguration_WithoutASignatureOrWithRandomSignatureBytes_IsRefused()
    {
        var verifier = _pki.Verifier();
        var anchorKeyHash = ByteString.CopyFrom(SHA256.HashData(_pki.SigningCertificate.RawData));
        var configuration = _pki.Configuration(version: 9).ToByteString();
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), signature =>
        {
            var signed = new SignedGlobalConfiguration
            {
                Configuration = configuration,
                Signature = ByteString.CopyFrom(signature ?? []),
                SignerCertificateSha256 = anchorKeyHash,
            };

            var result = verifier.Verify(signed.ToByteArray(), installed: null);

            Assert.That(result.Code, Is.EqualTo(signature is null or [] ? GlobalConfErrors.Malformed : GlobalConfErrors.InvalidSignature), result.ToString());
        }).Check(Run);
    }

    private static byte[] Field(SignedGlobalConfiguration signed, int field) => field switch
    {
        0 => signed.Configuration.ToByteArray(),
        1 => signed.Signature.ToByteArray(),
        _ => signed.SignerCertificateSha256.ToByteArray(),
    };
}
