// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Core.GlobalConf.Internal;

/// <summary>
/// Reads a <see cref="Timestamp"/> without the exception <see cref="Timestamp.ToDateTimeOffset"/>
/// throws for values outside its range: a missing or absurd time is a content problem to report.
/// </summary>
internal static class ProtoTime
{
    // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range google/protobuf/timestamp.proto allows.
    private const long MinSeconds = -62_135_596_800;
    private const long MaxSeconds = 253_402_300_799;

    public static bool TryRead(Timestamp? timestamp, out DateTimeOffset value)
    {
        if (timestamp is null
            || timestamp.Seconds is < MinSeconds or > MaxSeconds
            || timestamp.Nanos is < 0 or > 999_999_999)
        {
            value = default;
            return false;
        }

        value = DateTimeOffset.UnixEpoch.AddSeconds(timestamp.Seconds).AddTicks(timestamp.Nanos / 100);
        return true;
    }

    public static string Describe([NotNullWhen(true)] Timestamp? timestamp) =>
        timestamp is null ? "missing" : "outside 0001-01-01..9999-12-31";
}
