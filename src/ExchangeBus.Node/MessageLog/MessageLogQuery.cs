// SPDX-License-Identifier: Apache-2.0
using System.Globalization;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// An auditor's question to the log: every filter given must match. Results come oldest first,
/// ordered by (time, sequence), a page at a time; the cursor is the last row's (time, sequence),
/// so a page never shifts when records are appended meanwhile.
/// </summary>
public sealed record MessageLogQuery
{
    public const int MaxPageSize = 1_000;

    public const int DefaultPageSize = 100;

    /// <summary>Inclusive.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Exclusive.</summary>
    public DateTimeOffset? To { get; init; }

    public string? Client { get; init; }

    public string? Service { get; init; }

    public string? MessageId { get; init; }

    public string? UserId { get; init; }

    public string? SubjectId { get; init; }

    public string? Status { get; init; }

    /// <summary>
    /// Only records whose client or service is this member (INSTANCE/CLASS/MEMBER) or one of its
    /// subsystems: a member auditor's view. <see cref="BelongsTo"/> is the same test for one record.
    /// </summary>
    public string? PartyMember { get; init; }

    public int PageSize { get; init; } = DefaultPageSize;

    public MessageLogCursor? After { get; init; }

    /// <summary>True when <paramref name="party"/> (a client or service identifier) is <paramref name="member"/> or under it.</summary>
    public static bool BelongsTo(string party, string member)
    {
        ArgumentNullException.ThrowIfNull(party);
        ArgumentNullException.ThrowIfNull(member);
        return party.StartsWith(member, StringComparison.Ordinal) && (party.Length == member.Length || party[member.Length] == '/');
    }
}

/// <summary>Where a page ended: the last row's time and sequence.</summary>
public readonly record struct MessageLogCursor(long AtUnixMilliseconds, long Sequence)
{
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{AtUnixMilliseconds}.{Sequence}");

    public static bool TryParse(string? text, out MessageLogCursor cursor)
    {
        cursor = default;
        var dot = text?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (dot <= 0
            || !long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            || !long.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || sequence < 1)
        {
            return false;
        }

        cursor = new MessageLogCursor(at, sequence);
        return true;
    }
}

/// <summary>A record's searchable columns, hash, signature and signed header, without its body.</summary>
public sealed record MessageLogSummary(
    long Sequence, DateTimeOffset At, string MessageId, MessageDirection Direction, string Client, string Service,
    string UserId, string? SubjectId, string Issue, string Status, byte[] Hash, byte[] BodySha256, byte[] Signature, byte[] Header);

public sealed record MessageLogPage(IReadOnlyList<MessageLogSummary> Records, MessageLogCursor? Next);

/// <summary>Records of a sequence range with the signer certificates they name, each once.</summary>
public sealed record MessageLogRange(IReadOnlyList<MessageLogEntry> Entries, IReadOnlyDictionary<string, byte[]> CertificatesBySha256Hex, long NextSequence);
