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

    /// <summary>A streamed call's link is missing: a record's stream position skips one, or its first links are not in the log (cut).</summary>
    public const string StreamGap = "MessageLog.StreamGap";

    /// <summary>A streamed call's link comes after a later one (reordered or repeated).</summary>
    public const string StreamOutOfOrder = "MessageLog.StreamOutOfOrder";

    /// <summary>A streamed call's link does not name the hash of the link before it (spliced from another stream, or replaced).</summary>
    public const string StreamBroken = "MessageLog.StreamBroken";

    /// <summary>A stored body does not hash to the record's body SHA-256.</summary>
    public const string BodyHashMismatch = "MessageLog.BodyHashMismatch";

    /// <summary>The log has fewer records than a tree head it signed covers: records were cut off the end.</summary>
    public const string Truncated = "MessageLog.Truncated";

    // The codes below come from the full verification (LogVerifier, `xbus audit verify`): the
    // Merkle tree, the signed and time-stamped tree heads, the record signatures and certificates.

    /// <summary>The Merkle root rebuilt from the records is not the root a tree head signed (records rewritten, or the head's root edited).</summary>
    public const string RootMismatch = "MessageLog.RootMismatch";

    /// <summary>The stored Merkle nodes (what roots and proofs are served from) do not give the root rebuilt from the records, or are missing.</summary>
    public const string MerkleNodeMismatch = "MessageLog.MerkleNodeMismatch";

    /// <summary>A tree head's signed bytes do not parse, or disagree with the size, root or time stored beside them.</summary>
    public const string HeadMalformed = "MessageLog.HeadMalformed";

    /// <summary>A tree head names another node than the one whose log this is.</summary>
    public const string HeadWrongNode = "MessageLog.HeadWrongNode";

    /// <summary>A tree head's signature does not verify with its signer certificate.</summary>
    public const string HeadSignatureInvalid = "MessageLog.HeadSignatureInvalid";

    /// <summary>A tree head's RFC 3161 token does not verify, is not from a trusted TSA, or is over other data.</summary>
    public const string TimeStampInvalid = "MessageLog.TimeStampInvalid";

    /// <summary>A token's time is before its head was made (less the allowed skew), or before the previous head's token.</summary>
    public const string TimeStampOutOfOrder = "MessageLog.TimeStampOutOfOrder";

    /// <summary>A record's signature does not verify over its header and body hash with its signer certificate.</summary>
    public const string RecordSignatureInvalid = "MessageLog.RecordSignatureInvalid";

    /// <summary>A signed record names a signer certificate the log does not hold (or names none).</summary>
    public const string CertificateMissing = "MessageLog.CertificateMissing";

    /// <summary>The certificate stored under a hash does not hash to it: the blobs row was replaced.</summary>
    public const string CertificateMismatch = "MessageLog.CertificateMismatch";

    /// <summary>A signer certificate (of a record or a head) does not chain to a trusted CA at the time it was used, or is not a member-signing certificate.</summary>
    public const string CertificateUntrusted = "MessageLog.CertificateUntrusted";

    /// <summary>A valid certificate of another member signed: a request not by its client's member, a response or head not by the provider's or node's member.</summary>
    public const string WrongSigner = "MessageLog.WrongSigner";
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
