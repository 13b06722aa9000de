// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// The node's own instruments: calls by side, service and outcome, a latency histogram per side,
/// and the message log's queue depth. The meter comes from the host's <see cref="IMeterFactory"/>,
/// so it belongs to this node alone: several nodes in one process (tests, <c>xbus demo</c>) each
/// export only their own (see <see cref="NodeMetricsExtensions"/>). Labels take only values the
/// node has validated, never payloads or personal data.
/// </summary>
public sealed class NodeMetrics
{
    public const string MeterName = "ExchangeBus.Node";

    // Seconds, from a millisecond to ten seconds: an exchange is two signatures, a log write and a backend call.
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _statusRequests;
    private readonly Counter<long> _auditRefusals;

    // The same counts as xbus.calls' refused outcomes, kept for the console's status page, which
    // cannot read an instrument back. Keys are (side, error code): a small, fixed set.
    private readonly ConcurrentDictionary<(string Side, string Code), long> _refusals = new();

    public NodeMetrics(IMeterFactory meterFactory, SqliteMessageLog log)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(log);
        var meter = meterFactory.Create(MeterName);
        _calls = meter.CreateCounter<long>(
            "xbus.calls", unit: "{call}", "Exchanges handled, by side (client/provider), service and outcome (OK or error code).");
        _duration = meter.CreateHistogram(
            "xbus.call.duration", unit: "s", "Time to handle an exchange, by side.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
        _statusRequests = meter.CreateCounter<long>(
            "xbus.certificate_status.requests", unit: "{request}", "OCSP requests for callers' certificates (auditors'), by outcome (good, revoked, unknown, unavailable).");
        _auditRefusals = meter.CreateCounter<long>(
            "xbus.audit.refused", unit: "{call}", "Audit calls refused, by code; the rate-limited ones are counted here only, not in the message log.");
        meter.CreateObservableGauge(
            "xbus.message_log.queue_depth", () => log.QueueDepth, unit: "{record}", "Records waiting for the message log's next group commit.");
    }

    public void CertificateStatusRequested(string outcome) => _statusRequests.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void AuditRefused(string code) => _auditRefusals.Add(1, new KeyValuePair<string, object?>("code", code));

    /// <summary>Exchanges refused since the node started, by side and code, most first.</summary>
    public IReadOnlyList<(string Side, string Code, long Count)> Refusals =>
        [.. _refusals.Select(r => (r.Key.Side, r.Key.Code, r.Value)).OrderByDescending(r => r.Value).ThenBy(r => r.Code, StringComparer.Ordinal)];

    public void Record(string side, string service, string outcome, TimeSpan elapsed)
    {
        if (!string.Equals(outcome, MessageLogRecord.StatusOk, StringComparison.Ordinal))
        {
            _refusals.AddOrUpdate((side, outcome), 1, (_, count) => count + 1);
        }

        _calls.Add(1, new KeyValuePair<string, object?>("side", side), new("service", service), new("outcome", outcome));
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("side", side));
    }
}
