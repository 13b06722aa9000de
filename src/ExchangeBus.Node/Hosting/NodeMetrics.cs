// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// The node's metrics in the Prometheus text format (prometheus-net is not served here, and
/// the format is small): calls by side, service and outcome, a latency histogram per side, and
/// the message log's queue depth. Labels take only values the node has validated.
/// </summary>
public sealed class NodeMetrics
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly ConcurrentDictionary<(string Side, string Service, string Outcome), Counter> _calls = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new(StringComparer.Ordinal);

    public void Record(string side, string service, string outcome, TimeSpan elapsed)
    {
        _calls.GetOrAdd((side, service, outcome), _ => new Counter()).Increment();
        _latency.GetOrAdd(side, _ => new Histogram()).Observe(elapsed.TotalSeconds);
    }

    public long Calls(string side, string outcome) =>
        _calls.Where(c => c.Key.Side == side && c.Key.Outcome == outcome).Sum(c => c.Value.Value);

    public string Render(long logQueueDepth)
    {
        var text = new StringBuilder();
        text.AppendLine("# HELP xbus_calls_total Exchanges handled, by side (client/provider), service and outcome (OK or error code).");
        text.AppendLine("# TYPE xbus_calls_total counter");
        foreach (var ((side, service, outcome), counter) in _calls.OrderBy(c => c.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"xbus_calls_total{{side=\"{Escape(side)}\",service=\"{Escape(service)}\",outcome=\"{Escape(outcome)}\"}} {counter.Value}\n");
        }

        text.AppendLine("# HELP xbus_call_duration_seconds Time to handle an exchange, by side.");
        text.AppendLine("# TYPE xbus_call_duration_seconds histogram");
        foreach (var (side, histogram) in _latency.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            histogram.Render(text, $"side=\"{Escape(side)}\"");
        }

        text.AppendLine("# HELP xbus_message_log_queue_depth Records waiting for the message log's next group commit.");
        text.AppendLine("# TYPE xbus_message_log_queue_depth gauge");
        text.Append(CultureInfo.InvariantCulture, $"xbus_message_log_queue_depth {logQueueDepth}\n");
        return text.ToString();
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed class Counter
    {
        private long _value;

        public long Value => Interlocked.Read(ref _value);

        public void Increment() => Interlocked.Increment(ref _value);
    }

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[Buckets.Length + 1];
        private long _sumMicros;

        public void Observe(double seconds)
        {
            var index = Array.FindIndex(Buckets, b => seconds <= b);
            Interlocked.Increment(ref _counts[index < 0 ? Buckets.Length : index]);
            Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
        }

        public void Render(StringBuilder text, string labels)
        {
            long cumulative = 0;
            for (var i = 0; i < Buckets.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                text.Append(CultureInfo.InvariantCulture, $"xbus_call_duration_seconds_bucket{{{labels},le=\"{Buckets[i]}\"}} {cumulative}\n");
            }

            cumulative += Interlocked.Read(ref _counts[Buckets.Length]);
            text.Append(CultureInfo.InvariantCulture, $"xbus_call_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n");
            text.Append(CultureInfo.InvariantCulture, $"xbus_call_duration_seconds_sum{{{labels}}} {Interlocked.Read(ref _sumMicros) / 1_000_000.0}\n");
            text.Append(CultureInfo.InvariantCulture, $"xbus_call_duration_seconds_count{{{labels}}} {cumulative}\n");
        }
    }
}
