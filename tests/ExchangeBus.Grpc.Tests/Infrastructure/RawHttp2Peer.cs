// SPDX-License-Identifier: Apache-2.0
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ExchangeBus.Testing;

/// <summary>
/// A hostile HTTP/2 client on a real socket: it writes frames it builds byte by byte (so it can
/// drip them, cut them, or never finish a stream) and reads only frame headers back, to see when
/// the server lets the stream go. Shared by Grpc.Tests and Node.Tests (linked).
/// </summary>
internal sealed class RawHttp2Peer : IAsyncDisposable
{
    public const int StreamId = 1;

    private const byte Data = 0x0;
    private const byte Headers = 0x1;
    private const byte ResetStream = 0x3;
    private const byte Settings = 0x4;
    private const byte Ping = 0x6;
    private const byte GoAway = 0x7;
    private const byte EndStream = 0x1;
    private const byte EndHeaders = 0x4;

    private readonly TcpClient _tcp;
    private readonly Stream _stream;

    private RawHttp2Peer(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    /// <summary>Bytes written so far (a drip stops counting where the server cut it off).</summary>
    public int Sent { get; private set; }

    /// <summary>Connects to host:port; with a certificate, over TLS with ALPN h2 (the server's certificate is not checked: we are the attacker).</summary>
    public static Task<RawHttp2Peer> ConnectAsync(string hostPort, X509Certificate2? clientCertificate, CancellationToken cancellationToken) =>
        ConnectAsync(hostPort, clientCertificate is not null, clientCertificate, cancellationToken);

    /// <summary>Connects to host:port over TLS with ALPN h2 and no client certificate, as anyone may to a listener that asks for none.</summary>
    public static Task<RawHttp2Peer> ConnectTlsAsync(string hostPort, CancellationToken cancellationToken) =>
        ConnectAsync(hostPort, useTls: true, null, cancellationToken);

    /// <summary>Like <see cref="ConnectAsync(string, X509Certificate2?, CancellationToken)"/>, but waits <paramref name="delay"/> between the TCP connection and the TLS handshake, as a slow or loaded client does.</summary>
    public static Task<RawHttp2Peer> ConnectWithLateHandshakeAsync(string hostPort, X509Certificate2 clientCertificate, TimeSpan delay, CancellationToken cancellationToken) =>
        ConnectAsync(hostPort, useTls: true, clientCertificate, cancellationToken, delay);

    private static async Task<RawHttp2Peer> ConnectAsync(string hostPort, bool useTls, X509Certificate2? clientCertificate, CancellationToken cancellationToken, TimeSpan delayBeforeHandshake = default)
    {
        var colon = hostPort.LastIndexOf(':');
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        await Task.Delay(delayBeforeHandshake, cancellationToken);
        if (!useTls)
        {
            return new RawHttp2Peer(tcp, tcp.GetStream());
        }

        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        }, cancellationToken);
        return new RawHttp2Peer(tcp, tls);
    }

    /// <summary>
    /// Sends a PING every 200 ms and nothing else until the server lets the connection go;
    /// returns how (<see cref="ServerLetsGoAsync"/>).
    /// </summary>
    public async Task<string> PingUntilLetGoAsync(CancellationToken cancellationToken)
    {
        var letGo = ServerLetsGoAsync(cancellationToken);
        while (!letGo.IsCompleted)
        {
            try
            {
                await WriteAsync(PingFrame(), cancellationToken);
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(letGo, Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken));
        }

        return await letGo;
    }

    /// <summary>The client connection preface and an empty SETTINGS frame.</summary>
    public static byte[] Preface() => [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(Settings, 0, 0, [])];

    /// <summary>
    /// A gRPC request's HEADERS frame on <see cref="StreamId"/> (HPACK literals, no Huffman, no
    /// indexing), with about <paramref name="padding"/> bytes more in x-pad-N metadata.
    /// </summary>
    public static byte[] RequestHeaders(string path, string authority = "localhost", int padding = 0)
    {
        var block = new List<byte>();
        var fields = new List<(string, string)>
        {
            (":method", "POST"), (":scheme", "https"), (":path", path), (":authority", authority),
            ("content-type", "application/grpc"), ("te", "trailers"),
        };
        for (var i = 0; i * 100 < padding; i++)
        {
            fields.Add((string.Create(System.Globalization.CultureInfo.InvariantCulture, $"x-pad-{i}"), new string('p', 90)));
        }

        foreach (var (name, value) in fields)
        {
            block.Add(0x00);
            Literal(block, name);
            Literal(block, value);
        }

        return Frame(Headers, EndHeaders, StreamId, [.. block]);
    }

    /// <summary>A PING frame (connection level, eight bytes of opaque data).</summary>
    public static byte[] PingFrame() => Frame(Ping, 0, 0, new byte[8]);

    /// <summary>A DATA frame on <see cref="StreamId"/>.</summary>
    public static byte[] DataFrame(ReadOnlySpan<byte> payload, bool endStream) => Frame(Data, endStream ? EndStream : (byte)0, StreamId, payload);

    /// <summary>A gRPC message: flag byte and big-endian declared length, then <paramref name="payload"/> (which may be shorter).</summary>
    public static byte[] GrpcMessage(ReadOnlySpan<byte> payload, byte flag = 0, uint? declaredLength = null)
    {
        var message = new byte[5 + payload.Length];
        message[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(1), declaredLength ?? (uint)payload.Length);
        payload.CopyTo(message.AsSpan(5));
        return message;
    }

    public async Task WriteAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        Sent += bytes.Length;
    }

    /// <summary>
    /// Writes one byte at a time, <paramref name="interval"/> apart, until all are sent, the
    /// server closes the connection, or <paramref name="stop"/> completes. True if all were sent.
    /// </summary>
    public async Task<bool> DripAsync(byte[] bytes, TimeSpan interval, Task stop, CancellationToken cancellationToken)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (stop.IsCompleted)
            {
                return false;
            }

            try
            {
                await _stream.WriteAsync(bytes.AsMemory(i, 1), cancellationToken);
                await _stream.FlushAsync(cancellationToken);
            }
            catch (IOException)
            {
                return false;
            }

            Sent++;
            await Task.WhenAny(stop, Task.Delay(interval, cancellationToken));
        }

        return true;
    }

    /// <summary>
    /// Reads what the server sends until it lets <see cref="StreamId"/> go, and says how: the
    /// stream ended by the server (a response or trailers), reset, the connection sent away, or
    /// closed. Throws <see cref="OperationCanceledException"/> if the server holds on past the token.
    /// </summary>
    public async Task<string> ServerLetsGoAsync(CancellationToken cancellationToken)
    {
        var header = new byte[9];
        while (true)
        {
            if (!await ReadExactlyAsync(header, cancellationToken))
            {
                return "connection closed";
            }

            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var (type, flags) = (header[3], header[4]);
            var stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7FFF_FFFF;
            if (!await ReadExactlyAsync(new byte[length], cancellationToken))
            {
                return "connection closed";
            }

            if (type == GoAway)
            {
                return "GOAWAY";
            }

            if (stream == StreamId && type == ResetStream)
            {
                return "RST_STREAM";
            }

            if (stream == StreamId && type is Headers or Data && (flags & EndStream) != 0)
            {
                return "stream ended by the server";
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException)
        {
            return false;
        }
    }

    private static byte[] Frame(byte type, byte flags, int stream, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    private static void Literal(List<byte> block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length >= 127)
        {
            throw new ArgumentException("Only short header values are supported.", nameof(text));
        }

        block.Add((byte)bytes.Length);
        block.AddRange(bytes);
    }
}
