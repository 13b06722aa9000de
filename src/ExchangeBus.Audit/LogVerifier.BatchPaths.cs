// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Audit;

public sealed partial class LogVerifier
{
    /// <summary>
    /// Checks batch-form paths (RFC 9162 §2.1.3.2, as <see cref="MerkleVerifier.VerifyPackedInclusion"/>)
    /// remembering, per root, the last path that led to it: the envelopes of a batch sit next to
    /// each other in the log, and two neighbours' paths meet a level or two up, so a path costs its
    /// leaf and a hash or two instead of one hash per level (each SHA-256 through OpenSSL costs
    /// about a microsecond whatever its size: most of a verification's CPU).
    /// </summary>
    /// <remarks>
    /// From a step on, the walk depends only on (fn, sn), the hash so far and the rest of the path.
    /// So where this path reaches the same (fn, sn) with the same hash as the remembered one, and
    /// the rest of its path is byte for byte the remembered rest, it leads to the same root: every
    /// byte of the path is still compared, the hashes above the meeting point are not recomputed.
    /// Per thread (the reading workers), nothing shared.
    /// </remarks>
    private sealed class BatchPaths
    {
        // A request batch and a response batch interleave in a log; a few more for a busy node's neighbours.
        private const int Remembered = 4;

        [ThreadStatic]
        private static BatchPaths? t_paths;

        private readonly Path?[] _paths = new Path?[Remembered];
        private int _next;

        public static BatchPaths ForThisThread() => t_paths ??= new BatchPaths();

        public bool LeadsToRoot(ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature)
        {
            if (!BatchSignature.TryDecode(signature, out var parts).IsValid)
            {
                return false;
            }

            var root = BatchSignature.Root(signature);
            var proof = BatchSignature.Path(signature, parts);
            var known = Find(parts.TreeSize, root);
            var walked = new Path(parts.TreeSize, root.ToArray(), parts.PathLength);
            proof.CopyTo(walked.Proof);

            long fn = parts.LeafIndex, sn = parts.TreeSize - 1;
            Span<byte> r = stackalloc byte[MerkleHash.Size];
            MerkleHash.HashLeaf(toBeSigned, r);
            var u = 0;
            for (var t = 0; t < parts.PathLength; t++)
            {
                var p = proof.Slice(t * MerkleHash.Size, MerkleHash.Size);
                if (sn == 0)
                {
                    return false;
                }

                MerkleVerifier.InclusionStep(ref fn, ref sn, p, r);
                walked.Record(t, fn, sn, r);

                if (known is not null)
                {
                    // sn only falls along a walk, so the remembered step at this sn, if any, is ahead of u.
                    while (u < known.Length && known.Sn[u] > sn)
                    {
                        u++;
                    }

                    if (u < known.Length && known.Sn[u] == sn && known.Fn[u] == fn && known.Length - u == parts.PathLength - t
                        && r.SequenceEqual(known.Hash(u)) && proof[((t + 1) * MerkleHash.Size)..].SequenceEqual(known.Proof.AsSpan((u + 1) * MerkleHash.Size)))
                    {
                        walked.TakeRest(t, known, u);
                        Remember(known, walked);
                        return true;
                    }
                }
            }

            if (sn != 0 || !CryptographicOperations.FixedTimeEquals(r, root))
            {
                return false;
            }

            Remember(known, walked);
            return true;
        }

        private Path? Find(int treeSize, ReadOnlySpan<byte> root)
        {
            foreach (var path in _paths)
            {
                if (path is not null && path.TreeSize == treeSize && root.SequenceEqual(path.Root))
                {
                    return path;
                }
            }

            return null;
        }

        private void Remember(Path? replacing, Path path)
        {
            var slot = replacing is null ? -1 : Array.IndexOf(_paths, replacing);
            if (slot < 0)
            {
                slot = _next;
                _next = (_next + 1) % Remembered;
            }

            _paths[slot] = path;
        }

        /// <summary>A path that led to its root: after each step, (fn, sn) and the hash so far.</summary>
        private sealed class Path(int treeSize, byte[] root, int length)
        {
            public int TreeSize { get; } = treeSize;

            public byte[] Root { get; } = root;

            public int Length { get; } = length;

            public byte[] Proof { get; } = new byte[length * MerkleHash.Size];

            public long[] Fn { get; } = new long[length];

            public long[] Sn { get; } = new long[length];

            private byte[] Hashes { get; } = new byte[length * MerkleHash.Size];

            public ReadOnlySpan<byte> Hash(int step) => Hashes.AsSpan(step * MerkleHash.Size, MerkleHash.Size);

            public void Record(int step, long fn, long sn, ReadOnlySpan<byte> hash)
            {
                Fn[step] = fn;
                Sn[step] = sn;
                hash.CopyTo(Hashes.AsSpan(step * MerkleHash.Size));
            }

            /// <summary>The steps after <paramref name="step"/> are <paramref name="known"/>'s after <paramref name="knownStep"/>.</summary>
            public void TakeRest(int step, Path known, int knownStep)
            {
                var rest = Length - step - 1;
                Array.Copy(known.Fn, knownStep + 1, Fn, step + 1, rest);
                Array.Copy(known.Sn, knownStep + 1, Sn, step + 1, rest);
                Array.Copy(known.Hashes, (knownStep + 1) * MerkleHash.Size, Hashes, (step + 1) * MerkleHash.Size, rest * MerkleHash.Size);
            }
        }
    }
}
