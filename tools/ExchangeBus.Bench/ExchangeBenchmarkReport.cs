// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ExchangeBus.Bench;

/// <summary>
/// One phase on every path: through the two nodes with the generic <c>LocalGateway.Call</c>
/// (<see cref="Bus"/>), with a typed gRPC call of the backend's own method (docs/clients.md) and
/// with X-Road REST (<c>/r1/…</c> to a REST backend), and through the baseline's two forwarders.
/// </summary>
internal sealed record PhaseSet(PhaseResult Bus, PhaseResult TypedGrpc, PhaseResult Rest, PhaseResult Baseline);

/// <summary>
/// One streaming call kind on the typed path through the two nodes (each message its own signed,
/// logged link of a chain) and through the forwarders; <paramref name="MessagesPerCall"/> counts
/// the payload messages of one call, both ways, so that per-message figures compare with a unary
/// call's (two messages: the request and the answer).
/// </summary>
internal sealed record StreamingResult(string Kind, int MessagesPerCall, PhaseResult Bus, PhaseResult Baseline)
{
    public double BusMessagesPerSecond => Bus.PerSecond * MessagesPerCall;

    public double BaselineMessagesPerSecond => Baseline.PerSecond * MessagesPerCall;
}

/// <summary>One of issue 4's aims and whether this run met it.</summary>
internal sealed record AimResult(string Aim, string Measured, bool Met);

/// <summary>The figures of one run, printed as Markdown tables (to paste into docs/performance.md) or as JSON.</summary>
internal sealed record ExchangeBenchmarkReport
{
    public const double ExchangesPerSecondAim = 2_500;
    public const double BaselineShareAim = 0.5;
    public const double AddedP99MsAim = 5;
    public const double NodeMemoryMBAim = 250;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public required DateTimeOffset StartedAt { get; init; }

    public required ExchangeBenchmarkOptions Options { get; init; }

    public required int ProcessorCount { get; init; }

    public required string Runtime { get; init; }

    public required double LoadAverageBefore { get; init; }

    public required double LoadAverageAfter { get; init; }

    public required PhaseSet ClosedLoop { get; init; }

    public required PhaseSet OpenLoop { get; init; }

    public required PhaseSet Bursts { get; init; }

    /// <summary>The streaming kinds, closed loop (docs/performance.md, "Streaming calls").</summary>
    public required IReadOnlyList<StreamingResult> Streams { get; init; }

    /// <summary>The paths through the nodes, as the tables' columns (each also divided by the baseline).</summary>
    private static readonly (string Name, Func<PhaseSet, PhaseResult> Of)[] BusPaths =
    [
        ("Bus: LocalGateway.Call", set => set.Bus),
        ("Bus: typed gRPC", set => set.TypedGrpc),
        ("Bus: REST r1", set => set.Rest),
    ];

    /// <summary>The two nodes first (client, provider), then the two forwarders.</summary>
    public required IReadOnlyList<ProcessMemory> Memory { get; init; }

    public required IReadOnlyList<string> StopProblems { get; init; }

    public double AddedP99Ms => OpenLoop.Bus.P99Ms - OpenLoop.Baseline.P99Ms;

    public IReadOnlyList<AimResult> Aims
    {
        get
        {
            var nodes = Memory.Take(2).ToArray();
            var share = ClosedLoop.Bus.PerSecond / ClosedLoop.Baseline.PerSecond;
            return
            [
                new($"≥ {ExchangesPerSecondAim:N0} exchanges/s", $"{ClosedLoop.Bus.PerSecond:N0}/s", ClosedLoop.Bus.PerSecond >= ExchangesPerSecondAim),
                new("≥ half the baseline's rate", $"{share:0.00} of {ClosedLoop.Baseline.PerSecond:N0}/s", share >= BaselineShareAim),
                new($"p99 added latency < {AddedP99MsAim} ms at {Options.Rate:N0}/s",
                    $"{AddedP99Ms:0.0} ms ({OpenLoop.Bus.P99Ms:0.0} − {OpenLoop.Baseline.P99Ms:0.0})",
                    AddedP99Ms < AddedP99MsAim && OpenLoop.Bus.Errors == 0),
                new($"{Options.InFlight:N0} concurrent calls without errors",
                    $"{Bursts.Bus.Errors:N0} errors in {Options.Rounds} × {Options.InFlight:N0}", Bursts.Bus.Errors == 0 && Bursts.Bus.Calls > 0),
                new($"< {NodeMemoryMBAim} MB per node", string.Join(", ", nodes.Select(m => $"{m.Name} {m.PeakMB:0} MB")), nodes.All(m => m.PeakMB < NodeMemoryMBAim)),
            ];
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToTables()
    {
        var o = Options;
        var text = new StringBuilder();
        Action<string> line = s => text.Append(s).Append('\n');
        line($"xbus bench exchange: {StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC, {ProcessorCount} cores, .NET {Runtime}, "
            + $"load average {LoadAverageBefore:0.00} before and {LoadAverageAfter:0.00} after");
        line($"payload {o.PayloadBytes:N0} B; closed loop {o.Concurrency} callers × {o.Duration.TotalSeconds:0} s after {o.WarmUp.TotalSeconds:0} s warm-up; "
            + $"open loop {o.Rate:N0}/s × {o.Duration.TotalSeconds:0} s; {o.Rounds} × {o.InFlight:N0} calls in flight");
        line(string.Empty);
        line("Bus: 2 nodes, called with LocalGateway.Call (generic) and with the backend's own method (typed gRPC, docs/clients.md) and over X-Road REST (POST /r1/…, HTTP/2 to the node, HTTP/1.1 to a REST backend); baseline: 2 plain forwarders.");
        line(string.Empty);
        line($"| Figure | {string.Join(" | ", BusPaths.Select(p => p.Name))} | Baseline: 2 forwarders | {string.Join(" | ", BusPaths.Select(p => p.Name[5..] + " ÷ baseline"))} |");
        line($"|---|{string.Concat(Enumerable.Repeat("---:|", 1 + (2 * BusPaths.Length)))}");
        Row(line, "Closed loop: calls/s", ClosedLoop, r => r.PerSecond, "N0");
        Row(line, "Closed loop: p50 ms", ClosedLoop, r => r.P50Ms, "0.0");
        Row(line, "Closed loop: p99 ms", ClosedLoop, r => r.P99Ms, "0.0");
        Row(line, "Closed loop: CPU ms per call (its 2 processes)", ClosedLoop, r => r.CpuMsPerCall, "0.00");
        Row(line, "Closed loop: CPU ms per call (bench process: load, backend)", ClosedLoop, r => r.HarnessCpuMsPerCall, "0.00");
        Errors(line, "Closed loop: errors", ClosedLoop);
        Row(line, $"Open loop {o.Rate:N0}/s: achieved calls/s", OpenLoop, r => r.PerSecond, "N0");
        Row(line, $"Open loop {o.Rate:N0}/s: p50 ms", OpenLoop, r => r.P50Ms, "0.0");
        Row(line, $"Open loop {o.Rate:N0}/s: p99 ms", OpenLoop, r => r.P99Ms, "0.0");
        Row(line, $"Open loop {o.Rate:N0}/s: CPU ms per call", OpenLoop, r => r.CpuMsPerCall, "0.00");
        Errors(line, $"Open loop {o.Rate:N0}/s: errors", OpenLoop);
        Row(line, $"{o.InFlight:N0} in flight: p50 ms", Bursts, r => r.P50Ms, "0.0");
        Row(line, $"{o.InFlight:N0} in flight: p99 ms", Bursts, r => r.P99Ms, "0.0");
        Errors(line, $"{o.InFlight:N0} in flight × {o.Rounds}: errors", Bursts);
        // The bus paths share the two node processes: their memory is one figure, under the first.
        var filler = string.Concat(Enumerable.Repeat(" |", BusPaths.Length - 1));
        line($"| Peak memory (VmHWM) MB | {MemoryOf(0, m => m.PeakMB)} |{filler} {MemoryOf(2, m => m.PeakMB)} |{filler} |");
        line($"| Resident at the end (VmRSS) MB | {MemoryOf(0, m => m.ResidentMB)} |{filler} {MemoryOf(2, m => m.ResidentMB)} |{filler} |");
        line(string.Empty);
        StreamTable(line);
        line(string.Empty);
        line("| Aim (issue 4) | Measured | Met |");
        line("|---|---|---|");
        foreach (var aim in Aims)
        {
            line($"| {aim.Aim} | {aim.Measured} | {(aim.Met ? "yes" : "no")} |");
        }

        foreach (var result in new[] { ClosedLoop, OpenLoop, Bursts }.SelectMany(pair => BusPaths.Select(p => p.Of(pair)).Append(pair.Baseline))
            .Concat(Streams.SelectMany(s => new[] { s.Bus, s.Baseline })).Where(r => r.FirstError is not null))
        {
            line(string.Empty);
            line($"First {result.Target} error: {result.FirstError}");
        }

        foreach (var problem in StopProblems)
        {
            line($"On stopping: {problem}");
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// Per message, the streaming kinds beside the unary typed call of the closed loop (its two
    /// messages) and the baseline's same kind: what a message costs when it is a link of a chain.
    /// </summary>
    private void StreamTable(Action<string> line)
    {
        line($"Streaming kinds, closed loop ({Options.Concurrency} callers), {Options.StreamMessages} messages streamed a call; a message is a payload either way (unary: 2 a call).");
        line(string.Empty);
        line("| Kind | Messages a call | Bus: calls/s | Bus: messages/s | Bus: CPU ms per message (2 nodes) | Bus: p50 ms a call | Baseline: messages/s | Baseline: CPU ms per message | Bus ÷ baseline, messages/s | Bus ÷ baseline, CPU per message | Errors (bus, baseline) |");
        line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var rows = Streams.Prepend(new StreamingResult("unary (typed gRPC)", 2, ClosedLoop.TypedGrpc, ClosedLoop.Baseline));
        foreach (var s in rows)
        {
            var (busCpu, baseCpu) = (s.Bus.CpuMsPerCall / s.MessagesPerCall, s.Baseline.CpuMsPerCall / s.MessagesPerCall);
            line(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Kind} | {s.MessagesPerCall} | {s.Bus.PerSecond:N0} | {s.BusMessagesPerSecond:N0} | {busCpu:0.000} | {s.Bus.P50Ms:0.0} | {s.BaselineMessagesPerSecond:N0} | {baseCpu:0.000} | "
                + $"{s.BusMessagesPerSecond / s.BaselineMessagesPerSecond:0.00} | {busCpu / baseCpu:0.0} | {s.Bus.Errors:N0} of {s.Bus.Calls:N0}, {s.Baseline.Errors:N0} of {s.Baseline.Calls:N0} |"));
        }
    }

    private string MemoryOf(int first, Func<ProcessMemory, double> value) =>
        string.Join(", ", Memory.Skip(first).Take(2).Select(m => $"{m.Name} {value(m):0}"));

    private static void Row(Action<string> line, string name, PhaseSet set, Func<PhaseResult, double> value, string format)
    {
        var paths = BusPaths.Select(p => value(p.Of(set))).ToArray();
        var baseline = value(set.Baseline);
        line($"| {name} | {string.Join(" | ", paths.Select(v => v.ToString(format, CultureInfo.InvariantCulture)))} | {baseline.ToString(format, CultureInfo.InvariantCulture)} | "
            + $"{string.Join(" | ", paths.Select(v => (v / baseline).ToString("0.00", CultureInfo.InvariantCulture)))} |");
    }

    private static void Errors(Action<string> line, string name, PhaseSet set) =>
        line($"| {name} | {string.Join(" | ", BusPaths.Select(p => p.Of(set)).Append(set.Baseline).Select(r => $"{r.Errors:N0} of {r.Calls:N0}"))} |{string.Concat(Enumerable.Repeat(" |", BusPaths.Length))}");
}
