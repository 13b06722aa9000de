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
}
