// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;

namespace ExchangeBus.Testing;

/// <summary>What a mutation does to a byte string.</summary>
internal enum ByteMutationKind
{
    FlipBit,
    Truncate,
    InsertByte,
    DeleteByte,
    SwapBytes,
}

/// <summary>
/// One change to a byte string that always leaves it different: a bit flipped, the tail cut, a
/// byte inserted or deleted, two different bytes swapped. Shared by the FsCheck properties of
/// Core.Tests and Node.Tests (linked), so every verifier is attacked the same way.
/// </summary>
internal sealed record ByteMutation(ByteMutationKind Kind, int Position, int Other, byte Value)
{
    public byte[] Apply(byte[] original)
    {
        ArgumentNullException.ThrowIfNull(original);
        switch (Kind)
        {
            case ByteMutationKind.FlipBit:
            {
                var copy = (byte[])original.Clone();
                copy[Position] ^= (byte)(1 << (Value & 7));
                return copy;
            }

            case ByteMutationKind.Truncate:
                return original[..Position];

            case ByteMutationKind.InsertByte:
                return [.. original[..Position], Value, .. original[Position..]];

            case ByteMutationKind.DeleteByte:
                return [.. original[..Position], .. original[(Position + 1)..]];

            default:
            {
                var copy = (byte[])original.Clone();
                (copy[Position], copy[Other]) = (copy[Other], copy[Position]);
                if (copy[Position] == copy[Other])
                {
                    // Equal bytes swap to the same string: flip the first instead, so it still changes.
                    copy[Position] ^= 0x80;
                }

                return copy;
            }
        }
    }

    public override string ToString() => Kind switch
    {
        ByteMutationKind.FlipBit => string.Create(CultureInfo.InvariantCulture, $"bit {Value & 7} of byte {Position} flipped"),
        ByteMutationKind.Truncate => string.Create(CultureInfo.InvariantCulture, $"cut to {Position} bytes"),
        ByteMutationKind.InsertByte => string.Create(CultureInfo.InvariantCulture, $"0x{Value:x2} inserted at {Position}"),
        ByteMutationKind.DeleteByte => string.Create(CultureInfo.InvariantCulture, $"byte {Position} deleted"),
        _ => string.Create(CultureInfo.InvariantCulture, $"bytes {Position} and {Other} swapped"),
    };
}

internal static class ByteMutations
{
    /// <summary>Every mutation of a string of <paramref name="original"/>'s length, bit flips twice as often.</summary>
    public static Gen<ByteMutation> Of(byte[] original)
    {
        ArgumentNullException.ThrowIfNull(original);
        var length = original.Length;
        var value = Gen.Choose(0, 255).Select(v => (byte)v);
        var insert = from position in Gen.Choose(0, length)
                     from b in value
                     select new ByteMutation(ByteMutationKind.InsertByte, position, 0, b);
        if (length == 0)
        {
            return insert;
        }

        var at = Gen.Choose(0, length - 1);
        var flip = from position in at
                   from bit in Gen.Choose(0, 7)
                   select new ByteMutation(ByteMutationKind.FlipBit, position, 0, (byte)bit);
        var truncate = at.Select(position => new ByteMutation(ByteMutationKind.Truncate, position, 0, 0));
        var delete = at.Select(position => new ByteMutation(ByteMutationKind.DeleteByte, position, 0, 0));
        var swap = from position in at
                   from other in at
                   where other != position
                   select new ByteMutation(ByteMutationKind.SwapBytes, position, other, 0);
        return length == 1
            ? Gen.OneOf(flip, truncate, insert, delete)
            : Gen.OneOf(flip, flip, truncate, insert, delete, swap);
    }
}
