// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Core.Tests.Signing;

/// <summary>
/// The published test vector in docs/design/envelope-signature.md, made with openssl. If this
/// fails, either the code or the document is wrong, and other implementations rely on both.
/// </summary>
public sealed class EnvelopeSignatureTestVectorTests
{
    private const string PublicKeyPem = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZxoiQQJ62AV4oOdyJaT40lqtl+bD
        eYhwQtB0kUspQygTfoTmYQloeCgB+DXQLvZ/RglIJmDHu5oJKX+1BB0Q8Q==
        -----END PUBLIC KEY-----
        """;

    private const string ToBeSignedHex =
        "e9caf4fd43fd2e0a071961aedc3426053744f6333bec8ed0e51cbd84e60f7387"
        + "63efb315ed71cc7e5a1fc202434bb3aec2091e7838707e148a017faebb7464fe";

    private const string SignatureHex =
        "3045022100932356cb6b77ba122e9ed00189a8917f937e5f3383c809595161cef677fe0c29"
        + "022015a2baeafcdde4b461ff1e6d5eeb4e34e6ee19053089663b4a6b66891524362b";

    private static readonly byte[] Header = "test header"u8.ToArray();
    private static readonly byte[] Body = "test body"u8.ToArray();

    [Test]
    public void Compute_TestVector_MatchesPublishedToBeSigned()
    {
        Assert.That(Convert.ToHexStringLower(EnvelopeDigest.Compute(Header, Body)), Is.EqualTo(ToBeSignedHex));
    }

    [Test]
    public void Verify_TestVector_ReturnsTrue()
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(PublicKeyPem);

        Assert.That(EnvelopeVerifier.Verify(Header, Body, Convert.FromHexString(SignatureHex), key), Is.True);
    }

    [Test]
    public void Verify_TestVectorWithOtherBody_ReturnsFalse()
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(PublicKeyPem);

        Assert.That(EnvelopeVerifier.Verify(Header, "test bodY"u8, Convert.FromHexString(SignatureHex), key), Is.False);
    }
}
