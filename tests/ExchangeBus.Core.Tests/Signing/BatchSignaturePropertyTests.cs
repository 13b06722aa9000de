// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Security.Cryptography;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Core.Tests.Signing;

/// <summary>
/// Random batches (fixed seed, so a failure repeats) and every way the issue names to present
/// a batch signature for what it does not sign: each refused with its code, never thrown, with
/// and without a warm root cache (a warm cache must not let anything through that a cold
/// verifier refuses).
/// </summary>
public sealed class BatchSignaturePropertyTests
{
    private const int Batches = 40;

    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly ECDsa OtherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly byte[] KeyId = Key.ExportSubjectPublicKeyInfo();

    [OneTimeTearDown]
    public static void DisposeKeys()
    {
        Key.Dispose();
        OtherKey.Dispose();
    }

    /// <summary>Sizes 1–300 (past the signer's 256 and the powers of two), a random envelope of each batch, and a cold and a warm cache.</summary>
    private static IEnumerable<(List<byte[]> Tbs, byte[][] Signatures, int Index, Random Random, BatchRootCache? Cache)> Cases()
    {
        var random = new Random(19);
        var signer = new EnvelopeSigner(Key);
        for (var b = 0; b < Batches; b++)
        {
            var size = b < 10 ? b + 1 : random.Next(1, 301);
            var tbs = BatchSignatureTests.Values(size, random.Next());
            var signatures = signer.SignBatch(tbs);
            var index = random.Next(size);
            var warm = new BatchRootCache();
            Assert.That(EnvelopeVerifier.Check(tbs[index], signatures[index], Key, KeyId, warm).IsValid, Is.True, $"batch {b} of {size}, leaf {index}");
            yield return (tbs, signatures, index, random, null);
            yield return (tbs, signatures, index, random, warm);
        }
    }

    private static EnvelopeSignatureResult Check(byte[] tbs, byte[] signature, BatchRootCache? cache) =>
        EnvelopeVerifier.Check(tbs, signature, Key, KeyId, cache);

    [Test]
    public void EveryEnvelopeOfEveryBatch_Verifies()
    {
        foreach (var (tbs, signatures, _, _, cache) in Cases())
        {
            for (var i = 0; i < tbs.Count; i++)
            {
                Assert.That(Check(tbs[i], signatures[i], cache).IsValid, Is.True, $"leaf {i} of {tbs.Count}");
            }
        }
    }

    [Test]
    public void APathThatDoesNotLeadToTheCarriedRoot_IsRefused()
    {
        foreach (var (tbs, signatures, index, random, cache) in Cases().Where(c => c.Tbs.Count > 1))
        {
            var s = (byte[])signatures[index].Clone();
            var pathBytes = 32 * s[9];
            s[42 + random.Next(pathBytes)] ^= (byte)(1 << random.Next(8));

            Assert.That(Check(tbs[index], s, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.PathMismatch), $"leaf {index} of {tbs.Count}");
        }
    }

    [Test]
    public void APathToARootOtherThanTheSignedOne_IsRefused()
    {
        // A consistent path and root from another batch, with this batch's root signature: the
        // path leads to its root, but that root is not the one signed.
        var signer = new EnvelopeSigner(Key);
        foreach (var (tbs, signatures, index, _, cache) in Cases())
        {
            var forged = BatchSignatureTests.Values(tbs.Count, seed: index + 1000);
            forged[index] = tbs[index];
            var theirs = signer.SignBatch(forged)[index];
            var mine = signatures[index];
            var rootSignatureAt = 42 + (32 * mine[9]);
            byte[] spliced = [.. theirs.AsSpan(0, rootSignatureAt), .. mine.AsSpan(rootSignatureAt)];

            Assert.That(Check(tbs[index], spliced, cache).Code, Is.EqualTo(tbs.Count == 1 ? null : EnvelopeSignatureErrors.Invalid), $"leaf {index} of {tbs.Count}");
        }
    }

    [Test]
    public void ARootSignedByAnotherKey_IsRefused()
    {
        var otherSigner = new EnvelopeSigner(OtherKey);
        foreach (var (tbs, signatures, index, _, cache) in Cases())
        {
            // Verified as ours, signed by another.
            var theirs = otherSigner.SignBatch(tbs)[index];
            Assert.That(Check(tbs[index], theirs, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.Invalid), $"leaf {index} of {tbs.Count}");

            // Ours, verified under another key (and named as it in the cache).
            Assert.That(
                EnvelopeVerifier.Check(tbs[index], signatures[index], OtherKey, OtherKey.ExportSubjectPublicKeyInfo(), cache).Code,
                Is.EqualTo(EnvelopeSignatureErrors.Invalid));
        }
    }

    [Test]
    public void ASwappedLeaf_IsRefused()
    {
        foreach (var (tbs, signatures, index, random, cache) in Cases().Where(c => c.Tbs.Count > 1))
        {
            var other = (index + 1 + random.Next(tbs.Count - 1)) % tbs.Count;

            using (Assert.EnterMultipleScope())
            {
                // Another envelope's tbs under this one's signature, and the other way round.
                Assert.That(Check(tbs[other], signatures[index], cache).Code, Is.EqualTo(EnvelopeSignatureErrors.PathMismatch));
                Assert.That(Check(tbs[index], signatures[other], cache).Code, Is.EqualTo(EnvelopeSignatureErrors.PathMismatch));

                // This signature claiming the other's position: its path no longer fits.
                var moved = (byte[])signatures[index].Clone();
                BinaryPrimitives.WriteUInt32BigEndian(moved.AsSpan(5), (uint)other);
                Assert.That(Check(tbs[index], moved, cache).Code, Is.AnyOf(EnvelopeSignatureErrors.PathMismatch, EnvelopeSignatureErrors.Malformed));
            }
        }
    }

    [Test]
    public void AnIndexNotBelowTheSize_IsRefused()
    {
        foreach (var (tbs, signatures, index, random, cache) in Cases())
        {
            var s = (byte[])signatures[index].Clone();
            BinaryPrimitives.WriteUInt32BigEndian(s.AsSpan(5), (uint)(tbs.Count + random.Next(0, 3)));
            Assert.That(Check(tbs[index], s, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.InvalidIndex));

            var empty = (byte[])signatures[index].Clone();
            BinaryPrimitives.WriteUInt32BigEndian(empty.AsSpan(1), 0);
            Assert.That(Check(tbs[index], empty, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.InvalidIndex));

            var huge = (byte[])signatures[index].Clone();
            BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(1), uint.MaxValue);
            Assert.That(Check(tbs[index], huge, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.InvalidIndex));
        }
    }

    [Test]
    public void ASizeWhosePathHasTheSameShape_IsRefused()
    {
        // Leaf 0 of 7 and of 8 have paths of the same shape (RFC 9162's caveat): the signed size tells them apart.
        var tbs = BatchSignatureTests.Values(7, seed: 7);
        var signature = new EnvelopeSigner(Key).SignBatch(tbs)[0];
        var cache = new BatchRootCache();
        Assert.That(Check(tbs[0], signature, cache).IsValid, Is.True);
        BinaryPrimitives.WriteUInt32BigEndian(signature.AsSpan(1), 8);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Check(tbs[0], signature, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.Invalid), "warm");
            Assert.That(Check(tbs[0], signature, null).Code, Is.EqualTo(EnvelopeSignatureErrors.Invalid), "cold");
        }
    }

    [Test]
    public void MalformedEncodings_AreRefusedNeverThrown()
    {
        foreach (var (tbs, signatures, index, random, cache) in Cases().Take(12))
        {
            var s = signatures[index];

            // Every truncation, and one byte more.
            for (var length = 0; length < s.Length; length++)
            {
                Assert.That(Check(tbs[index], s[..length], cache).IsValid, Is.False, $"cut to {length} of {s.Length}");
            }

            Assert.That(Check(tbs[index], [.. s, 0x00], cache).IsValid, Is.False, "a trailing byte");

            // A path length byte that is not the one the index and size call for.
            var lengthByte = (byte[])s.Clone();
            lengthByte[9] = (byte)(s[9] + 1 + random.Next(200));
            Assert.That(Check(tbs[index], lengthByte, cache).Code, Is.EqualTo(EnvelopeSignatureErrors.Malformed));

            // Random bytes after the form byte, and a flipped bit anywhere.
            for (var i = 0; i < 50; i++)
            {
                var noise = new byte[random.Next(1, 200)];
                random.NextBytes(noise);
                noise[0] = BatchSignature.FormV1;
                Assert.That(Check(tbs[index], noise, cache).IsValid, Is.False);

                var flipped = (byte[])s.Clone();
                flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                Assert.That(Check(tbs[index], flipped, cache).IsValid, Is.False, "a flipped bit");
            }
        }
    }
}
