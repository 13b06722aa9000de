// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Http.Headers;

namespace ExchangeBus.Grpc.Internal;

/// <summary>A request body written by the call as it goes, rather than buffered up front.</summary>
internal sealed class PushContent : HttpContent
{
    private static readonly MediaTypeHeaderValue GrpcMediaType = new(GrpcProtocol.ContentType);
    private readonly Func<Stream, Task> _write;

    public PushContent(Func<Stream, Task> write)
    {
        _write = write;
        Headers.ContentType = GrpcMediaType;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _write(stream);

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
