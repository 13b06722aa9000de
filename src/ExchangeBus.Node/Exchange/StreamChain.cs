// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using Google.Protobuf;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// One side of a streamed call as a chain (docs/design/agency-protocols.md, "The four call
/// kinds"): link k carries its position and the SHA-256 of link k−1's to-be-signed bytes; the end
/// record is the last link. The sender stamps each header before signing it, the receiver checks
/// each header it verified; both advance by the link's to-be-signed bytes. The message log's
/// verification applies the same rule to the records (StreamRecordChecks).
/// </summary>
internal sealed class StreamChain
{
    private byte[] _previous = [];

    /// <summary>The position the next link must have: the count of links so far.</summary>
    public ulong Position { get; private set; }

    public void Stamp(MessageHeader header)
    {
        header.Streamed = true;
        header.StreamPosition = Position;
        header.PreviousHash = ByteString.CopyFrom(_previous);
    }

    public bool Follows(MessageHeader header) =>
        header.Streamed
        && header.StreamPosition == Position
        && header.PreviousHash.Length == _previous.Length
        && CryptographicOperations.FixedTimeEquals(header.PreviousHash.Span, _previous);

    public void Advance(ReadOnlySpan<byte> toBeSigned)
    {
        _previous = SHA256.HashData(toBeSigned);
        Position++;
    }

    /// <summary>
    /// Why a streamed call failed, once its other direction (<paramref name="otherSide"/>, already
    /// told to stop) has finished: a refusal there (a bad request message, say) is the call's
    /// outcome rather than the cancellation it caused here; otherwise <paramref name="failure"/>'s code, if it has one.
    /// </summary>
    public static async Task<NodeException?> OutcomeAsync(Task otherSide, Exception failure)
    {
        await otherSide.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return otherSide.Exception?.InnerException as NodeException ?? failure as NodeException;
    }
}
