// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Pki.Internal;

namespace ExchangeBus.Core;

/// <summary>
/// Files a crash can never leave half-written: written to a temporary file beside the target,
/// flushed to disk, then renamed over it. Owner-only (0600) from the moment they exist.
/// </summary>
public static class AtomicFile
{
    public static void WriteOwnerOnly(string path, ReadOnlySpan<byte> content) =>
        SecureFile.WriteAtomically(path, content, SecureFile.OwnerReadWrite, overwrite: true);

    /// <summary>Reads a file, refusing one larger than <paramref name="maxBytes"/> (without reading it).</summary>
    public static byte[] ReadBounded(string path, int maxBytes) => SecureFile.ReadBounded(path, maxBytes);
}
