// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Grpc;

public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>Largest response message sent; a handler producing a larger one fails with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;

    internal IEnumerable<string> Validate()
    {
        // The prefix carries a 32-bit length, and a message is buffered whole: 1 GiB is far past sane.
        const int Ceiling = 1 << 30;
        if (MaxReceiveMessageSize is <= 0 or > Ceiling)
        {
            yield return $"{nameof(MaxReceiveMessageSize)} must be between 1 and {Ceiling} bytes.";
        }

        if (MaxSendMessageSize is <= 0 or > Ceiling)
        {
            yield return $"{nameof(MaxSendMessageSize)} must be between 1 and {Ceiling} bytes.";
        }
    }
}
