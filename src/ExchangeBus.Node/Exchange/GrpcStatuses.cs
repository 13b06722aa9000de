// SPDX-License-Identifier: Apache-2.0
using System.Text;
using ExchangeBus.Contracts.Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// A backend's gRPC status and trailing metadata as the signed response header carries them
/// (<see cref="GrpcStatus"/>), and back: binary trailers as their bytes, ASCII ones as their text.
/// Both ways only the trailers that may cross (<see cref="GrpcMetadata.TrailerCrosses"/>): the provider's
/// node signs none of <c>grpc-*</c>, the bus's own or keys the caller's library would refuse, and
/// the client's node drops them again should a provider node have signed one.
/// </summary>
internal static class GrpcStatuses
{
    public static GrpcStatus From(Status status, Metadata trailers)
    {
        var result = new GrpcStatus { Code = (int)status.StatusCode, Message = status.Detail };
        foreach (var entry in trailers)
        {
            if (!GrpcMetadata.TrailerCrosses(entry.Key) || (!entry.IsBinary && !GrpcMetadata.IsPrintableAscii(entry.Value)))
            {
                continue;
            }

            result.Trailers.Add(new GrpcMetadataEntry
            {
                Key = entry.Key,
                Value = entry.IsBinary ? ByteString.CopyFrom(entry.ValueBytes) : ByteString.CopyFrom(Encoding.ASCII.GetBytes(entry.Value)),
            });
        }

        return result;
    }

    public static Metadata Trailers(GrpcStatus status)
    {
        var trailers = new Metadata();
        foreach (var entry in status.Trailers)
        {
            var binary = entry.Key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.Ordinal);
            if (!GrpcMetadata.TrailerCrosses(entry.Key) || (!binary && !GrpcMetadata.IsPrintableAscii(Encoding.Latin1.GetString(entry.Value.Span))))
            {
                continue;
            }

            if (binary)
            {
                trailers.Add(entry.Key, entry.Value.ToByteArray());
            }
            else
            {
                trailers.Add(entry.Key, Encoding.ASCII.GetString(entry.Value.Span));
            }
        }

        return trailers;
    }
}
