// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.MessageLog;

/// <summary>Stable codes for what <see cref="MessageLogReader.Verify"/> finds; scripts and auditors match on these.</summary>
public static class MessageLogProblems
{
    /// <summary>A sequence number in the range has no record (deleted, or never there).</summary>
    public const string MissingRecord = "MessageLog.MissingRecord";

    /// <summary>A record's previous hash is not the hash of the record before it (reordered, replaced or spliced).</summary>
    public const string BrokenLink = "MessageLog.BrokenLink";

    /// <summary>A record's content does not hash to its stored hash (edited, or the hash was edited).</summary>
    public const string HashMismatch = "MessageLog.HashMismatch";

    /// <summary>A stored body does not hash to the record's body SHA-256.</summary>
    public const string BodyHashMismatch = "MessageLog.BodyHashMismatch";

    /// <summary>The log has fewer records than a tree head it signed covers: records were cut off the end.</summary>
    public const string Truncated = "MessageLog.Truncated";
}

/// <summary>The outcome of checking a range of the chain.</summary>
/// <param name="IsValid">Every record in the range is present, linked and unaltered.</param>
/// <param name="RecordsChecked">Records that passed every check, in order, before the first problem (all of them when valid).</param>
/// <param name="FirstBadSequence">The first record found wrong (or missing); null when valid.</param>
/// <param name="Problem">One of <see cref="MessageLogProblems"/>; null when valid.</param>
/// <param name="Detail">A sentence for the operator (sequence numbers only, never content).</param>
public sealed record MessageLogVerification(
    bool IsValid,
    long RecordsChecked,
    long? FirstBadSequence,
    string? Problem,
    string? Detail)
{
    internal static MessageLogVerification Valid(long checkedRecords) => new(true, checkedRecords, null, null, null);

    internal static MessageLogVerification Invalid(long checkedRecords, long sequence, string problem, string detail) =>
        new(false, checkedRecords, sequence, problem, detail);
}

/// <summary>
/// The log refuses to open for writing because its last record does not verify: new records
/// must not be chained onto a tail nobody can vouch for. Read it with <see cref="MessageLogReader"/>
/// to see the damage.
/// </summary>
public sealed class MessageLogIntegrityException(string problem, long sequence, string message) : Exception(message)
{
    /// <summary>One of <see cref="MessageLogProblems"/>.</summary>
    public string Problem { get; } = problem;

    public long Sequence { get; } = sequence;
}
