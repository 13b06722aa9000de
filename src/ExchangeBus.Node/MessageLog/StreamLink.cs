// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Signing;

namespace ExchangeBus.Node.MessageLog;

/// <summary>
/// Where one chain of a streamed call stands (docs/audit.md, "Streamed calls"): the position the
/// next link must have and the hash it must name. The one rule both the log's verification
/// (<see cref="StreamRecordChecks"/>) and evidence bundles' (ExchangeBus.Audit) apply to records.
/// It keys on the header's streamed, stream_position and previous_hash only, so a kind of link
/// it does not know is chained like any other; only the end kinds close a chain.
/// </summary>
internal readonly record struct StreamLink(ulong Next, byte[] Previous)
{
    public static StreamLink Start { get; } = new(0, []);

    /// <summary>The link after <paramref name="header"/>: its hash is SHA-256 of its to-be-signed bytes, rebuilt from the header and the body's hash.</summary>
    public StreamLink After(ReadOnlySpan<byte> header, ReadOnlySpan<byte> bodySha256) =>
        new(Next + 1, SHA256.HashData(EnvelopeDigest.FromHashes(SHA256.HashData(header), bodySha256)));

    /// <summary>Why <paramref name="header"/> is not this link (a code of <see cref="MessageLogProblems"/>), or null when it is.</summary>
    public string? Problem(MessageHeader header) =>
        header.StreamPosition > Next ? MessageLogProblems.StreamGap
        : header.StreamPosition < Next ? MessageLogProblems.StreamOutOfOrder
        : !CryptographicOperations.FixedTimeEquals(header.PreviousHash.Span, Previous) ? MessageLogProblems.StreamBroken
        : null;

    /// <summary>The signed record that closes its chain (a RESPONSE_END closes the call's request chain too).</summary>
    public static bool Ends(MessageHeader header) => header.Kind is MessageKind.RequestEnd or MessageKind.ResponseEnd;
}
