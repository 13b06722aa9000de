// SPDX-License-Identifier: Apache-2.0
using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ExchangeBus.Grpc;

/// <summary>
/// The wire details of gRPC over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): header names, the
/// five-byte message prefix, <c>grpc-timeout</c>, <c>grpc-message</c> percent-encoding and
/// <c>-bin</c> base64 values.
/// </summary>
public static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string StatusDetailsHeader = "grpc-status-details-bin";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string IdentityEncoding = "identity";
    public const int HeaderSize = 5;
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>True for <c>application/grpc</c> and <c>application/grpc+proto</c> (any parameters).</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (contentType.Length == ContentType.Length)
        {
            return true;
        }

        // "application/grpc-web" is another protocol; "+proto" and ";params" are this one.
        var next = contentType[ContentType.Length];
        return next is '+' or ';';
    }

    /// <summary>Writes the five-byte prefix: compressed flag 0 and the big-endian length.</summary>
    public static void WriteHeader(Span<byte> destination, int length)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    /// <summary>
    /// Reads one message prefix from <paramref name="buffer"/>. Returns false if fewer than five
    /// bytes are there. Throws <see cref="RpcException"/> for a compressed message (we never
    /// negotiate compression) or a length over <paramref name="maxMessageSize"/>; the length is
    /// checked before any of the message is buffered, so a huge prefix costs nothing.
    /// </summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, int maxMessageSize, out int length)
    {
        length = 0;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var flag = header[0];
        if (flag == 1)
        {
            throw new RpcException(StatusCode.Internal, "Received a compressed message, but no compression was negotiated.");
        }

        if (flag != 0)
        {
            throw new RpcException(StatusCode.Internal, $"Malformed message prefix: flag byte {flag}.");
        }

        var declared = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (declared > (uint)maxMessageSize)
        {
            throw new RpcException(
                StatusCode.ResourceExhausted,
                string.Create(CultureInfo.InvariantCulture, $"Received message larger than max ({declared} vs. {maxMessageSize})"));
        }

        length = (int)declared;
        return true;
    }

    /// <summary>Formats a timeout the way the spec allows: at most eight digits and a unit.</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return "1n";
        }

        var ticks = timeout.Ticks;
        var micros = ticks / 10;
        if (micros < 100_000_000)
        {
            return Format(Math.Max(1, micros), 'u');
        }

        var millis = ticks / TimeSpan.TicksPerMillisecond;
        if (millis < 100_000_000)
        {
            return Format(millis, 'm');
        }

        var seconds = ticks / TimeSpan.TicksPerSecond;
        if (seconds < 100_000_000)
        {
            return Format(seconds, 'S');
        }

        return Format(Math.Min(99_999_999, ticks / TimeSpan.TicksPerHour), 'H');

        static string Format(long value, char unit) => string.Create(CultureInfo.InvariantCulture, $"{value}{unit}");
    }

    /// <summary>Parses <c>grpc-timeout</c>: 1–8 ASCII digits then one of H M S m u n.</summary>
    public static bool TryParseTimeout(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (value is null || value.Length < 2 || value.Length > 9)
        {
            return false;
        }

        long amount = 0;
        for (var i = 0; i < value.Length - 1; i++)
        {
            var c = value[i];
            if (c is < '0' or > '9')
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        timeout = value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * 10),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => TimeSpan.MinValue,
        };
        return timeout != TimeSpan.MinValue;
    }

    /// <summary>Percent-encodes a status message: UTF-8, with bytes outside 0x20–0x7E and '%' escaped.</summary>
    public static string EncodeMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var needs = false;
        foreach (var b in bytes)
        {
            if (b is < 0x20 or > 0x7E or (byte)'%')
            {
                needs = true;
                break;
            }
        }

        if (!needs)
        {
            return message;
        }

        var sb = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is < 0x20 or > 0x7E or (byte)'%')
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append((char)b);
            }
        }

        return sb.ToString();
    }

    /// <summary>Decodes a percent-encoded status message; malformed escapes are kept as they are.</summary>
    public static string DecodeMessage(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded) || !encoded.Contains('%', StringComparison.Ordinal))
        {
            return encoded ?? string.Empty;
        }

        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length
                && byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(encoded[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Base64 for -bin headers: sent without padding; both forms accepted.</summary>
    public static string EncodeBinaryHeader(ReadOnlySpan<byte> value) => Convert.ToBase64String(value).TrimEnd('=');

    public static bool TryDecodeBinaryHeader(string value, out byte[] bytes)
    {
        var padded = (value.Length % 4) switch
        {
            2 => value + "==",
            3 => value + "=",
            _ => value,
        };
        bytes = new byte[padded.Length * 3 / 4];
        if (Convert.TryFromBase64String(padded, bytes, out var written))
        {
            Array.Resize(ref bytes, written);
            return true;
        }

        bytes = [];
        return false;
    }

    /// <summary>The spec's mapping of HTTP status to gRPC status, for responses that are not gRPC.</summary>
    public static StatusCode FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
