// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Tests.Merkle;

internal static class MerkleTamper
{
    /// <summary>A copy of the proof with one bit of one element flipped; the original is untouched.</summary>
    public static byte[][] FlipBit(byte[][] proof, int element, int byteIndex, int bit)
    {
        var copy = proof.Select(hash => (byte[])hash.Clone()).ToArray();
        copy[element][byteIndex] ^= (byte)(1 << bit);
        return copy;
    }

    public static byte[] FlipBit(byte[] hash, int byteIndex, int bit)
    {
        var copy = (byte[])hash.Clone();
        copy[byteIndex] ^= (byte)(1 << bit);
        return copy;
    }
}
