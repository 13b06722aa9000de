// SPDX-License-Identifier: Apache-2.0
using System.Collections;

namespace ExchangeBus.Grpc;

/// <summary>
/// gRPC custom metadata: ASCII headers, and binary ones whose key ends in <c>-bin</c> (sent
/// base64). Keys are lower case <c>[0-9a-z_.-]</c>. Transport headers (<c>grpc-*</c>,
/// <c>content-type</c>, <c>te</c>, pseudo-headers) are the transport's own and never appear here.
/// </summary>
public sealed class Metadata : IReadOnlyList<Metadata.Entry>
{
    public const string BinarySuffix = "-bin";

    public static Metadata Empty { get; } = new(readOnly: true);

    private readonly List<Entry> _entries = [];
    private readonly bool _readOnly;

    public Metadata()
    {
    }

    private Metadata(bool readOnly) => _readOnly = readOnly;

    public int Count => _entries.Count;

    public Entry this[int index] => _entries[index];

    public Metadata Add(string key, string value)
    {
        ThrowIfReadOnly();
        _entries.Add(Entry.Ascii(key, value));
        return this;
    }

    public Metadata Add(string key, byte[] value)
    {
        ThrowIfReadOnly();
        _entries.Add(Entry.Binary(key, value));
        return this;
    }

    internal void AddEntry(Entry entry)
    {
        ThrowIfReadOnly();
        _entries.Add(entry);
    }

    /// <summary>The last ASCII value under <paramref name="key"/>, or null.</summary>
    public string? GetValue(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (!_entries[i].IsBinary && string.Equals(_entries[i].Key, key, StringComparison.Ordinal))
            {
                return _entries[i].Value;
            }
        }

        return null;
    }

    /// <summary>The last binary value under <paramref name="key"/> (which ends in -bin), or null.</summary>
    public byte[]? GetBytes(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].IsBinary && string.Equals(_entries[i].Key, key, StringComparison.Ordinal))
            {
                return _entries[i].ValueBytes;
            }
        }

        return null;
    }

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void ThrowIfReadOnly()
    {
        if (_readOnly)
        {
            throw new InvalidOperationException("This metadata is read-only.");
        }
    }

    /// <summary>True for header names the transport owns; user metadata may not use them.</summary>
    internal static bool IsReserved(string key) =>
        key.StartsWith(':')
        || key.StartsWith("grpc-", StringComparison.Ordinal)
        || key is "content-type" or "te" or "user-agent" or "host" or "content-length" or "accept-encoding";

    internal static bool IsValidKey(string key)
    {
        if (key.Length == 0 || key.Length > 256)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (!(c is >= 'a' and <= 'z' || c is >= '0' and <= '9' || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True if <paramref name="value"/> can be sent as an ASCII metadata value.</summary>
    public static bool IsPrintableAscii(string value) => IsValidAsciiValue(value);

    internal static bool IsValidAsciiValue(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    public sealed class Entry
    {
        private readonly string? _value;
        private readonly byte[]? _bytes;

        private Entry(string key, string? value, byte[]? bytes)
        {
            Key = key;
            _value = value;
            _bytes = bytes;
        }

        public string Key { get; }

        public bool IsBinary => _bytes is not null;

        public string Value => _value ?? throw new InvalidOperationException($"Metadata '{Key}' is binary.");

        public byte[] ValueBytes => _bytes ?? throw new InvalidOperationException($"Metadata '{Key}' is ASCII.");

        internal static Entry Ascii(string key, string value)
        {
            var normalized = Normalize(key);
            if (normalized.EndsWith(BinarySuffix, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Metadata key '{normalized}' ends in -bin: give a byte[] value.", nameof(key));
            }

            ArgumentNullException.ThrowIfNull(value);
            if (!IsValidAsciiValue(value))
            {
                throw new ArgumentException($"Metadata '{normalized}' has a value outside printable ASCII.", nameof(value));
            }

            return new Entry(normalized, value, null);
        }

        internal static Entry Binary(string key, byte[] value)
        {
            var normalized = Normalize(key);
            if (!normalized.EndsWith(BinarySuffix, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Binary metadata key '{normalized}' must end in -bin.", nameof(key));
            }

            ArgumentNullException.ThrowIfNull(value);
            return new Entry(normalized, null, value);
        }

        private static string Normalize(string key)
        {
            ArgumentNullException.ThrowIfNull(key);
            var lower = key.ToLowerInvariant();
            if (!IsValidKey(lower))
            {
                throw new ArgumentException($"'{key}' is not a valid metadata key (allowed: 0-9 a-z _ - .).", nameof(key));
            }

            if (IsReserved(lower))
            {
                throw new ArgumentException($"'{lower}' is a transport header and cannot be set as metadata.", nameof(key));
            }

            return lower;
        }
    }
}
