// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ExchangeBus.Core.Signing;

/// <summary>
/// Batch roots whose signature has verified, so that the other envelopes of a batch cost a
/// path check (a few SHA-256) instead of an ECDSA verification each. An entry is the triple
/// (key, signed root value, root signature bytes), hashed: a later envelope is spared the ECDSA check only
/// when it carries exactly the signature bytes that verified, so no envelope is accepted, or
/// logged, with signature bytes that were not themselves checked.
/// </summary>
/// <remarks>
/// Bounded: two generations of <c>capacity / 2</c> entries each. When the current generation
/// is full the older one is dropped and the current one becomes the older; a hit in the older
/// generation moves to the current one. So at most <c>capacity</c> entries (40 bytes each plus
/// the set's overhead; about 0.5 MB for the default) are held, and a root in use stays. Safe
/// for several threads.
/// </remarks>
public sealed class BatchRootCache
{
    /// <summary>Enough for a batch in flight from every peer of a large bus, many times over.</summary>
    public const int DefaultCapacity = 8_192;

    private readonly Lock _gate = new();
    private readonly int _generationSize;
    private HashSet<Entry> _current = [];
    private HashSet<Entry> _older = [];

    public BatchRootCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _generationSize = capacity / 2;
    }

    /// <summary>How many entries are held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _current.Count + _older.Count;
            }
        }
    }

    /// <summary>
    /// Has this key's signature <paramref name="rootSignature"/> over <paramref name="root"/>
    /// (what the root signature is over: <see cref="BatchSignature.RootToBeSigned"/>) verified before? <paramref name="keyId"/> is the key as SubjectPublicKeyInfo DER (any
    /// stable encoding will do, used alike in both calls).
    /// </summary>
    public bool Contains(ReadOnlySpan<byte> keyId, ReadOnlySpan<byte> root, ReadOnlySpan<byte> rootSignature)
    {
        var entry = Entry.Of(keyId, root, rootSignature);
        lock (_gate)
        {
            if (_current.Contains(entry))
            {
                return true;
            }

            if (!_older.Remove(entry))
            {
                return false;
            }

            AddLocked(entry);
            return true;
        }
    }

    /// <summary>Remembers a root signature that verified under the key.</summary>
    public void Add(ReadOnlySpan<byte> keyId, ReadOnlySpan<byte> root, ReadOnlySpan<byte> rootSignature)
    {
        var entry = Entry.Of(keyId, root, rootSignature);
        lock (_gate)
        {
            AddLocked(entry);
        }
    }

    private void AddLocked(Entry entry)
    {
        if (_current.Count >= _generationSize)
        {
            (_older, _current) = (_current, _older);
            _current.Clear();
        }

        _current.Add(entry);
    }

    /// <summary>SHA-256 of the length-prefixed key, root and signature: fixed-size, so the sets hold no arrays.</summary>
    private readonly record struct Entry(ulong A, ulong B, ulong C, ulong D)
    {
        public static Entry Of(ReadOnlySpan<byte> keyId, ReadOnlySpan<byte> root, ReadOnlySpan<byte> rootSignature)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            AppendPart(hash, keyId);
            AppendPart(hash, root);
            AppendPart(hash, rootSignature);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            hash.GetHashAndReset(digest);
            return new Entry(
                BinaryPrimitives.ReadUInt64LittleEndian(digest), BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(digest[16..]), BinaryPrimitives.ReadUInt64LittleEndian(digest[24..]));
        }

        private static void AppendPart(IncrementalHash hash, ReadOnlySpan<byte> part)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, part.Length);
            hash.AppendData(length);
            hash.AppendData(part);
        }
    }
}
