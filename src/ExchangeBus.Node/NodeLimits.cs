// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node;

/// <summary>Sizes the node enforces, so an oversized payload is refused with its own code, not a transport error.</summary>
public static class NodeLimits
{
    /// <summary>The largest payload of one call (files of any size go through file sync, not calls).</summary>
    public const int MaxPayloadBytes = 4 * 1024 * 1024;

    /// <summary>Room for the header, signature, certificate and OCSP response around a payload.</summary>
    public const int EnvelopeOverheadBytes = 64 * 1024;

    /// <summary>The gRPC message limit on the node's listeners and channels.</summary>
    public const int MaxMessageBytes = MaxPayloadBytes + EnvelopeOverheadBytes;

    /// <summary>
    /// The largest REST body node.json may allow (a <c>rest</c> service's <c>maxBodyBytes</c>, the
    /// node's <c>maxRestBodyBytes</c>): such a body crosses as a chain of signed chunks, never
    /// whole in memory, so the cap guards the backends and the message log's disk, not the heap.
    /// </summary>
    public const int MaxStreamedBodyBytes = 1024 * 1024 * 1024;

    /// <summary>
    /// The chunk of a streamed REST body: one signed, logged message of the chain. A request
    /// declaring at most this goes whole by Exchange.Deliver (two signatures, not four).
    /// </summary>
    public const int RestChunkBytes = 64 * 1024;
}
