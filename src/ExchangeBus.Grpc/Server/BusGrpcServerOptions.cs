// SPDX-License-Identifier: Apache-2.0
using System.ComponentModel.DataAnnotations;

namespace ExchangeBus.Grpc;

/// <summary>The message limits of a bus gRPC server, applied to every service it maps.</summary>
public sealed class BusGrpcServerOptions
{
    // A message is buffered whole: 1 GiB is far past sane.
    private const int Ceiling = 1 << 30;

    /// <summary>Largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED.</summary>
    [Range(1, Ceiling)]
    public int MaxReceiveMessageSize { get; set; } = BusChannelOptions.DefaultMaxMessageSize;

    /// <summary>Largest response message sent; a handler producing a larger one fails with RESOURCE_EXHAUSTED.</summary>
    [Range(1, Ceiling)]
    public int MaxSendMessageSize { get; set; } = BusChannelOptions.DefaultMaxMessageSize;
}
