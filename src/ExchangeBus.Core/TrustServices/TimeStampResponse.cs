// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography;

namespace ExchangeBus.Core.TrustServices;

/// <summary>PKIStatus (RFC 3161 §2.4.2).</summary>
public enum TimeStampStatus
{
    Granted = 0,
    GrantedWithModifications = 1,
    Rejection = 2,
    Waiting = 3,
    RevocationWarning = 4,
    RevocationNotification = 5,
}

/// <summary>PKIFailureInfo (RFC 3161 §2.4.2): each flag is the named bit of the same position.</summary>
[Flags]
[SuppressMessage("Naming", "CA1714:Flags enums should have plural names", Justification = "The ASN.1 type's name.")]
public enum TimeStampFailureInfo
{
    None = 0,

    /// <summary>badAlg (0): unrecognized or unsupported algorithm identifier.</summary>
    BadAlgorithm = 1 << 0,

    /// <summary>badRequest (2): transaction not permitted or supported.</summary>
    BadRequest = 1 << 2,

    /// <summary>badDataFormat (5): the data submitted has the wrong format.</summary>
    BadDataFormat = 1 << 5,

    /// <summary>timeNotAvailable (14): the TSA's time source is not available.</summary>
    TimeNotAvailable = 1 << 14,

    /// <summary>unacceptedPolicy (15): the requested TSA policy is not supported.</summary>
    UnacceptedPolicy = 1 << 15,

    /// <summary>unacceptedExtension (16): the requested extension is not supported.</summary>
    UnacceptedExtension = 1 << 16,

    /// <summary>addInfoNotAvailable (17): the additional information requested is not available.</summary>
    AddInfoNotAvailable = 1 << 17,

    /// <summary>systemFailure (25): the request cannot be handled due to system failure.</summary>
    SystemFailure = 1 << 25,
}

/// <summary>
/// A TimeStampResp (RFC 3161 §2.4.2): a status, and the token when granted. The TSA encodes it;
/// clients and the evidence verifier decode it.
/// </summary>
public sealed class TimeStampResponse
{
    /// <summary>The bus's tokens are a few KiB; a reply much bigger than that is not one of ours.</summary>
    public const int DefaultMaxBytes = 64 * 1024;

    private readonly byte[]? token;

    private TimeStampResponse(TimeStampStatus status, TimeStampFailureInfo failureInfo, string? statusText, byte[]? token)
    {
        Status = status;
        FailureInfo = failureInfo;
        StatusText = statusText;
        this.token = token;
    }

    public TimeStampStatus Status { get; }

    public TimeStampFailureInfo FailureInfo { get; }

    /// <summary>The statusString lines joined by a line feed, or null when absent.</summary>
    public string? StatusText { get; }

    // Not "? null :" below: the null literal would convert to an empty ReadOnlyMemory, not to a null Nullable.

    /// <summary>The time-stamp token (a DER ContentInfo), present only when granted.</summary>
    public ReadOnlyMemory<byte>? Token => token is null ? default(ReadOnlyMemory<byte>?) : token;

    /// <summary>Granted (with or without modifications) and carrying a token.</summary>
    public bool IsGranted => (Status is TimeStampStatus.Granted or TimeStampStatus.GrantedWithModifications) && token is not null;

    /// <summary>A granted response carrying <paramref name="timeStampToken"/> (a DER ContentInfo).</summary>
    public static TimeStampResponse Granted(ReadOnlySpan<byte> timeStampToken)
    {
        if (timeStampToken.IsEmpty)
        {
            throw new ArgumentException("A granted response needs a token.", nameof(timeStampToken));
        }

        return new TimeStampResponse(TimeStampStatus.Granted, TimeStampFailureInfo.None, null, timeStampToken.ToArray());
    }

    /// <summary>A rejection with the failure bits and a short, human-readable reason.</summary>
    public static TimeStampResponse Rejection(TimeStampFailureInfo failureInfo, string? statusText) =>
        new(TimeStampStatus.Rejection, failureInfo, statusText, null);

    /// <summary>The DER encoding.</summary>
    public byte[] Encode()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteInteger((int)Status);
                if (StatusText is not null)
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteCharacterString(UniversalTagNumber.UTF8String, StatusText);
                    }
                }

                if (FailureInfo != TimeStampFailureInfo.None)
                {
                    writer.WriteNamedBitList(FailureInfo);
                }
            }

            if (token is not null)
            {
                writer.WriteEncodedValue(token);
            }
        }

        return writer.Encode();
    }

    /// <summary>
    /// Decodes a TimeStampResp; false for anything that is not exactly one (trailing bytes
    /// included). The token inside is not checked here: that is <see cref="TimeStampTokenVerifier"/>'s job.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, [NotNullWhen(true)] out TimeStampResponse? response)
    {
        response = null;
        if (source.IsEmpty || source.Length > DefaultMaxBytes)
        {
            return false;
        }

        try
        {
            // BER: replies from other TSAs are read too; the token is verified by signature anyway.
            var outer = new AsnReader(source.ToArray(), AsnEncodingRules.BER);
            var sequence = outer.ReadSequence();
            outer.ThrowIfNotEmpty();

            var statusInfo = sequence.ReadSequence();
            if (!statusInfo.TryReadInt32(out var statusValue) || statusValue < 0 || statusValue > (int)TimeStampStatus.RevocationNotification)
            {
                return false;
            }

            string? text = null;
            if (statusInfo.HasData && statusInfo.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
            {
                var lines = new List<string>();
                var freeText = statusInfo.ReadSequence();
                while (freeText.HasData)
                {
                    lines.Add(freeText.ReadCharacterString(UniversalTagNumber.UTF8String));
                }

                text = string.Join('\n', lines);
            }

            var failure = TimeStampFailureInfo.None;
            if (statusInfo.HasData)
            {
                failure = statusInfo.ReadNamedBitListValue<TimeStampFailureInfo>();
            }

            statusInfo.ThrowIfNotEmpty();

            byte[]? token = null;
            if (sequence.HasData)
            {
                if (!sequence.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
                {
                    return false;
                }

                token = sequence.ReadEncodedValue().ToArray();
            }

            sequence.ThrowIfNotEmpty();
            response = new TimeStampResponse((TimeStampStatus)statusValue, failure, text, token);
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
