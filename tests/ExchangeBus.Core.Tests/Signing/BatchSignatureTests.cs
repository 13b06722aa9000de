// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Security.Cryptography;
using ExchangeBus.Core.Signing;
using ExchangeBus.Core.Tests.Merkle;

namespace ExchangeBus.Core.Tests.Signing;

/// <summary>The batch form: its layout, checked against an independent RFC 9162 tree, and its acceptance beside the single form.</summary>
public sealed class BatchSignatureTests
{
    private ECDsa _key = null!;
    private EnvelopeSigner _signer = null!;

    [SetUp]
    public void SetUp()
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _signer = new EnvelopeSigner(_key);
    }

    [TearDown]
    public void TearDown() => _key.Dispose();

    [Test]
    public void SignBatch_EachSignature_IsTheDocumentedLayoutOverTheNaiveTree()
    {
        var tbs = Values(7, seed: 1);
        var signatures = _signer.SignBatch(tbs);
        var naive = new NaiveMerkleTree(tbs);
        var root = naive.Root(7);

        for (var i = 0; i < tbs.Count; i++)
        {
            var s = signatures[i];
            var path = naive.Path(i, 7);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(s[0], Is.EqualTo(0xB1));
                Assert.That(BinaryPrimitives.ReadUInt32BigEndian(s.AsSpan(1)), Is.EqualTo(7));
                Assert.That(BinaryPrimitives.ReadUInt32BigEndian(s.AsSpan(5)), Is.EqualTo(i));
                Assert.That(s[9], Is.EqualTo(path.Count));
                Assert.That(s.AsSpan(10, 32).ToArray(), Is.EqualTo(root));
                Assert.That(s.AsSpan(42, 32 * path.Count).ToArray(), Is.EqualTo(path.SelectMany(h => h).ToArray()));
                Assert.That(
                    _key.VerifyData([.. "ExchangeBus.EnvelopeBatch.v1"u8, 0, 0, 0, 0, 0, 0, 0, 7, .. root], s.AsSpan(42 + (32 * path.Count)), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
                    Is.True);
            }
        }
    }

    [Test]
    public void SignBatch_OneRootSignatureForTheWholeBatch()
    {
        var signatures = _signer.SignBatch(Values(5, seed: 2));
        var rootSignatures = signatures.Select(s => Convert.ToHexString(s.AsSpan(42 + (32 * s[9])))).Distinct().ToList();

        Assert.That(rootSignatures, Has.Count.EqualTo(1));
    }

    [Test]
    public void Verify_BothForms_Accepted()
    {
        var tbs = Values(3, seed: 3);
        var single = _signer.SignDigest(tbs[0]);
        var batch = _signer.SignBatch(tbs);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(single[0], Is.EqualTo(0x30), "a single-form signature is DER");
            Assert.That(EnvelopeVerifier.VerifyDigest(tbs[0], single, _key), Is.True);
            for (var i = 0; i < 3; i++)
            {
                Assert.That(EnvelopeVerifier.VerifyDigest(tbs[i], batch[i], _key), Is.True);
                Assert.That(EnvelopeVerifier.VerifyDigestWithCheckedKey(tbs[i], batch[i], _key), Is.True);
            }
        }
    }

    [Test]
    public void Verify_TreeOfOneLeaf_HasAnEmptyPathAndVerifies()
    {
        var tbs = Values(1, seed: 4);
        var signature = _signer.SignBatch(tbs)[0];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(signature[9], Is.Zero);
            Assert.That(signature.AsSpan(10, 32).ToArray(), Is.EqualTo(NaiveMerkleTree.LeafHash(tbs[0])));
            Assert.That(EnvelopeVerifier.VerifyDigest(tbs[0], signature, _key), Is.True);
        }
    }

    [Test]
    public void Check_WarmCache_SkipsTheRootSignatureButNeverThePath()
    {
        var tbs = Values(9, seed: 5);
        var signatures = _signer.SignBatch(tbs);
        var keyId = _key.ExportSubjectPublicKeyInfo();
        var cache = new BatchRootCache();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.That(EnvelopeVerifier.Check(tbs[0], signatures[0], _key, keyId, cache).IsValid, Is.True);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(cache.Count, Is.EqualTo(1));

            // Proof that no ECDSA verification happens on a hit: a key that could verify nothing
            // still passes, named as the remembered key. (Callers name keys truthfully.)
            for (var i = 1; i < tbs.Count; i++)
            {
                Assert.That(EnvelopeVerifier.Check(tbs[i], signatures[i], other, keyId, cache).IsValid, Is.True);
            }

            // The path is checked on a hit all the same.
            Assert.That(EnvelopeVerifier.Check(tbs[1], signatures[2], _key, keyId, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.PathMismatch));

            // Under another key's name nothing is remembered: the real check refuses.
            Assert.That(EnvelopeVerifier.Check(tbs[1], signatures[1], other, other.ExportSubjectPublicKeyInfo(), cache).Code, Is.EqualTo(EnvelopeSignatureErrors.Invalid));
            Assert.That(cache.Count, Is.EqualTo(1));
        }
    }

    [Test]
    public void BatchRootCache_StaysWithinItsCapacity_AndKeepsWhatIsInUse()
    {
        var cache = new BatchRootCache(capacity: 64);
        var hot = RandomNumberGenerator.GetBytes(32);
        cache.Add([1], hot, [2]);
        for (var i = 0; i < 1_000; i++)
        {
            cache.Add([1], RandomNumberGenerator.GetBytes(32), [2]);
            Assert.That(cache.Contains([1], hot, [2]), Is.True, $"after {i} others");
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(cache.Count, Is.LessThanOrEqualTo(64));
            Assert.That(cache.Contains([1], hot, [3]), Is.False, "other signature bytes");
            Assert.That(cache.Contains([9], hot, [2]), Is.False, "another key");
        }
    }

    [Test]
    public void SignTreeHead_BytesThatStartLikeABatchRoot_Refused()
    {
        var rootTbs = BatchSignature.RootToBeSigned(2, new byte[32]);

        Assert.That(() => _signer.SignTreeHead(rootTbs), Throws.ArgumentException);
    }

    [TestCase(0)]
    [TestCase(BatchSignature.MaxTreeSize + 1)]
    public void SignBatch_SizeOutOfRange_Throws(int count) =>
        Assert.That(() => _signer.SignBatch(Values(count, seed: 6)), Throws.ArgumentException);

    internal static List<byte[]> Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            var value = new byte[EnvelopeDigest.Size];
            random.NextBytes(value);
            values.Add(value);
        }

        return values;
    }
}
