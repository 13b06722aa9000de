// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.MessageLog;
using ExchangeBus.WebConsole.Localization;

namespace ExchangeBus.Node.WebConsole.Audit;

/// <summary>
/// The days an auditor's page reads (whole days in the viewer's time zone, the last
/// <see cref="DefaultDays"/> unless given): the log is read a bounded window at a time, never whole.
/// </summary>
public sealed record AuditorWindow(DateOnly From, DateOnly To)
{
    public const int DefaultDays = 7;

    /// <summary>Records one page of the console reads at most; past that the page says so.</summary>
    public const int MaxRecords = 5_000;

    public DateTimeOffset Start => Midnight(From);

    /// <summary>Exclusive: the end of the last day.</summary>
    public DateTimeOffset End => Midnight(To.AddDays(1));

    public static AuditorWindow Of(DateOnly? from, DateOnly? to, TimeProvider time, int defaultDays = DefaultDays)
    {
        ArgumentNullException.ThrowIfNull(time);
        var today = DateOnly.FromDateTime(ConsoleTime.Local(time.GetUtcNow()).DateTime);
        var end = to ?? today;
        var start = from ?? end.AddDays(1 - defaultDays);
        return start > end ? new AuditorWindow(end, start) : new AuditorWindow(start, end);
    }

    /// <summary>Every record matching <paramref name="query"/> in the window, oldest first, up to <see cref="MaxRecords"/> (Truncated when there were more).</summary>
    public (List<MessageLogSummary> Records, bool Truncated) ReadAll(MessageLogReader reader, MessageLogQuery query)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(query);
        var records = new List<MessageLogSummary>();
        var next = query with { From = Start, To = End, PageSize = MessageLogQuery.MaxPageSize, After = null };
        while (true)
        {
            var page = reader.Query(next);
            records.AddRange(page.Records);
            if (records.Count >= MaxRecords)
            {
                return (records[..MaxRecords], records.Count > MaxRecords || page.Next is not null);
            }

            if (page.Next is not { } cursor)
            {
                return (records, false);
            }

            next = next with { After = cursor };
        }
    }

    private static DateTimeOffset Midnight(DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, ConsoleTime.Zone.GetUtcOffset(local));
    }
}
