// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Testing.V1;
using Google.Protobuf;

namespace ExchangeBus.Grpc.Tests.Infrastructure;

/// <summary>
/// gRPC requests written by hand (any body, any headers) over real mutual-TLS HTTP/2, and the
/// answer read from the response's headers and trailers, as a peer that is not a gRPC library
/// would send and see them.
/// </summary>
internal static class RawGrpc
{
    /// <summary>An HTTP/2 client with the test client's certificate that trusts the test root.</summary>
    public static HttpMessageInvoker Invoker()
    {
        var certs = TestCertificates.Instance;
        var trust = new CertificateTrust([certs.Root], TimeProvider.System);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [certs.Client];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is X509Certificate2 server && trust.Validate(server, CertificateTrust.ServerAuthentication).IsTrusted;
        return new HttpMessageInvoker(handler);
    }

    /// <summary>One gRPC message: flag byte, big-endian length, then <paramref name="message"/>.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message, byte flag = 0) => Frame(flag, (uint)message.Length, message);

    /// <summary>A gRPC message whose length prefix may lie about the bytes behind it.</summary>
    public static byte[] Frame(byte flag, uint declaredLength, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>An EchoRequest of 16 MiB that gzip packs into a few KiB.</summary>
    public static byte[] Bomb() => new EchoRequest { Payload = ByteString.CopyFrom(new byte[16 << 20]) }.ToByteArray();

    public static byte[] Gzip(byte[] bytes)
    {
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.SmallestSize))
        {
            gzip.Write(bytes);
        }

        return packed.ToArray();
    }

    /// <summary>
    /// POSTs <paramref name="body"/> to <paramref name="uri"/>, flushed in pieces of the sizes in
    /// <paramref name="chunks"/> (one DATA frame each) or all at once; with <paramref name="endless"/>
    /// the request body then never ends (until the answer is in), so the server must answer from
    /// what it has.
    /// </summary>
    public static async Task<Answer> SendAsync(
        HttpMessageInvoker invoker,
        Uri uri,
        byte[] body,
        string contentType = "application/grpc",
        (string Name, string Value)? extraHeader = null,
        bool endless = false,
        int[]? chunks = null)
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var answered = CancellationTokenSource.CreateLinkedTokenSource(giveUp.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new BodyContent(body, chunks ?? [Math.Max(body.Length, 1)], endless, answered.Token),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        if (extraHeader is { } header)
        {
            request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }

        using var response = await invoker.SendAsync(request, giveUp.Token);
        var responseBody = await response.Content.ReadAsByteArrayAsync(giveUp.Token);
        await answered.CancelAsync();
        string? Find(string name) =>
            response.Headers.TryGetValues(name, out var values) ? values.First()
            : response.TrailingHeaders.TryGetValues(name, out var trailers) ? trailers.First() : null;

        var details = Find("grpc-status-details-bin") is { } base64 ? Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(Padded(base64))) : null;
        return new Answer(
            response.StatusCode,
            Find("grpc-status"),
            Find("grpc-message") is { } message ? Uri.UnescapeDataString(message) : null,
            Find("grpc-accept-encoding"),
            RichStatus.FindErrorInfo(details)?.Reason,
            RichStatus.FindRequestInfo(details)?.RequestId,
            responseBody);
    }

    private static string Padded(string base64) => base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');

    /// <summary>What came back: HTTP status, grpc-status and grpc-message, the bus's rich status fields, and the response body.</summary>
    internal sealed record Answer(HttpStatusCode Http, string? Status, string? Message, string? AcceptEncoding, string? ErrorCode, string? CorrelationId, byte[] Body);

    private sealed class BodyContent(byte[] body, int[] chunks, bool endless, CancellationToken answered) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            try
            {
                var offset = 0;
                for (var i = 0; offset < body.Length; i++)
                {
                    var length = Math.Min(chunks[i % chunks.Length], body.Length - offset);
                    await stream.WriteAsync(body.AsMemory(offset, length), answered);
                    await stream.FlushAsync(answered);
                    offset += length;
                }

                if (endless)
                {
                    await Task.Delay(Timeout.Infinite, answered);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The server answered before reading all of it and stopped the stream: allowed
                // (HTTP/2 RST_STREAM NO_ERROR after a complete response); the answer is what counts.
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
