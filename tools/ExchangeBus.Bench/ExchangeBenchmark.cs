// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Node.Configuration;
using TransparentGrpc = ExchangeBus.Node.Gateway.TransparentGrpc;
using ExchangeBus.Node.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Google.Protobuf;

namespace ExchangeBus.Bench;

/// <summary>The knobs of one run.</summary>
internal sealed record ExchangeBenchmarkOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(3);

    public int Concurrency { get; init; } = 64;

    public int Rate { get; init; } = 1_000;

    public int PayloadBytes { get; init; } = 1_024;

    public int InFlight { get; init; } = 1_000;

    public int Rounds { get; init; } = 5;

    /// <summary>Messages on the streamed side(s) of each streaming call.</summary>
    public int StreamMessages { get; init; } = 10;

    public bool Keep { get; init; }
}

/// <summary>
/// <c>xbus bench exchange</c> (issues 4 and 17): exchanges through two nodes, each its own process,
/// with signing, mutual TLS, the message log and logging as in production, beside a baseline of two
/// plain gRPC forwarder processes in front of the same backend. Through the nodes on each path an
/// agency system can take: the generic <c>LocalGateway.Call</c>, the backend's own method called
/// transparently, and X-Road REST (<c>/r1/…</c> to a REST backend) (docs/clients.md). The registry, the backend and the load all run in this process;
/// everything lives in a temporary folder.
/// </summary>
internal static class ExchangeBenchmark
{
    private const string Provider = "VN/GOV/000.00.00.H01";
    private const string ProviderSubsystem = Provider + "/registry";
    private const string Service = ProviderSubsystem + "/echo/v1";

    /// <summary>The same backend as one typed gRPC service: its own method path, called through the client's node.</summary>
    private const string TypedService = ProviderSubsystem + "/backend/v1";

    /// <summary>An echo over X-Road REST (r1): five parts, no version; a REST backend behind it.</summary>
    private const string RestService = ProviderSubsystem + "/restEcho";

    /// <summary>The REST backend's own path, which the caller appends after the service.</summary>
    private const string RestPath = "/echo";
    private const string Client = "VN/GOV/000.00.00.G01";
    private const string ClientSubsystem = Client + "/licence";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds per measured phase.", DefaultValueFactory = _ => 10 };
        var warmUp = new Option<int>("--warmup") { Description = "Seconds of unmeasured closed-loop load on each side first.", DefaultValueFactory = _ => 3 };
        var concurrency = new Option<int>("--concurrency") { Description = "Callers in the closed loop.", DefaultValueFactory = _ => 64 };
        var rate = new Option<int>("--rate") { Description = "Calls per second in the open loop.", DefaultValueFactory = _ => 1_000 };
        var payload = new Option<int>("--payload-bytes") { Description = "Size of each request (the backend echoes it).", DefaultValueFactory = _ => 1_024 };
        var inFlight = new Option<int>("--in-flight") { Description = "Calls started at once in the burst phase.", DefaultValueFactory = _ => 1_000 };
        var rounds = new Option<int>("--rounds") { Description = "Bursts in the burst phase.", DefaultValueFactory = _ => 5 };
        var streamMessages = new Option<int>("--stream-messages") { Description = "Messages on the streamed side(s) of each streaming call (server, client, bidirectional).", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of tables." };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary folder (data, message logs, the processes' output)." };
        var command = new Command("exchange", "Exchanges/s, p50/p99 latency and memory through two nodes (generic and typed gRPC calls, the three streaming kinds, X-Road REST), beside a plain two-hop gRPC forward.")
        {
            duration, warmUp, concurrency, rate, payload, inFlight, rounds, streamMessages, json, keep,
        };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async () =>
        {
            var options = new ExchangeBenchmarkOptions
            {
                Duration = TimeSpan.FromSeconds(Positive(parse.GetValue(duration), "--duration")),
                WarmUp = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp))),
                Concurrency = Positive(parse.GetValue(concurrency), "--concurrency"),
                Rate = Positive(parse.GetValue(rate), "--rate"),
                PayloadBytes = Math.Max(0, parse.GetValue(payload)),
                InFlight = Positive(parse.GetValue(inFlight), "--in-flight"),
                Rounds = Positive(parse.GetValue(rounds), "--rounds"),
                StreamMessages = Positive(parse.GetValue(streamMessages), "--stream-messages"),
                Keep = parse.GetValue(keep),
            };
            var report = await RunAsync(options, parse.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine(parse.GetValue(json) ? report.ToJson() : report.ToTables());
        }));
        return command;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new CliException("Bench.InvalidOption", $"{name} must be positive.");

    /// <param name="options">What to run.</param>
    /// <param name="progress">Where the steps are told (standard error, so that --json output stays clean).</param>
    /// <param name="cancellationToken">Ctrl+C.</param>
    public static async Task<ExchangeBenchmarkReport> RunAsync(ExchangeBenchmarkOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("xbus-bench-").FullName;
        var logs = Directory.CreateDirectory(Path.Combine(root, "logs")).FullName;
        var owned = new List<IAsyncDisposable>();
        var started = DateTimeOffset.UtcNow;
        var loadBefore = LoadAverage();
        try
        {
            progress.WriteLine($"[1/6] Registry, backend and two enrolled nodes in {root}");
            var registry = await LoopbackRegistry.StartAsync(root, autoApprove: true).ConfigureAwait(false);
            owned.Add(registry);
            await registry.AddMemberAsync(Provider, "Ministry of Public Security", ProviderSubsystem).ConfigureAwait(false);
            await registry.AddMemberAsync(Client, "Ministry of Transport", ClientSubsystem).ConfigureAwait(false);
            var backend = await LoopbackHost.StartAsync(0, grpc: true, app => Forwarder.MapEcho(app, (request, _) => Task.FromResult(request),
                methods => StreamingEcho.MapBackend(methods, options.StreamMessages))).ConfigureAwait(false);
            owned.Add(backend);
            var backendAddress = backend.Address.ToString().TrimEnd('/');

            // The same echo as an HTTP API: what a REST service's own backend does with a body.
            var restBackend = await LoopbackHost.StartAsync(0, grpc: false, app => app.MapPost(RestPath, async (HttpRequest request, CancellationToken token) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body, token).ConfigureAwait(false);
                return Results.Bytes(body.ToArray(), "application/octet-stream");
            })).ConfigureAwait(false);
            owned.Add(restBackend);

            var provider = await registry.EnrolApprovedAsync("provider", NodeId.Parse(Provider + "/ss1"), cancellationToken).ConfigureAwait(false);
            var settings = NodeSettings.Read(provider.Paths.Settings);

            // The typed service registers its description, as a provider should: the client node
            // then learns that Echo is unary and carries it by Exchange.Deliver (two signatures);
            // without one every typed call goes by Exchange.Stream (four; docs/design/agency-protocols.md).
            const string echoDescription = "bench-echo.pb";
            await File.WriteAllBytesAsync(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(provider.Paths.Settings))!, echoDescription),
                EchoDescriptorSet().ToByteArray(), cancellationToken).ConfigureAwait(false);
            (settings with
            {
                Services =
                [
                    new ServiceSettings { Service = Service, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = backendAddress, Method = Forwarder.Echo.FullName, TimeoutMilliseconds = 30_000 } },
                    new ServiceSettings { Service = TypedService, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = backendAddress, GrpcService = Forwarder.Echo.ServiceName, TimeoutMilliseconds = 30_000 }, Description = echoDescription },
                    new ServiceSettings { Service = RestService, Backend = new BackendSettings { Kind = BackendKind.Rest, Address = restBackend.Address.ToString().TrimEnd('/'), TimeoutMilliseconds = 30_000 } },
                ],
                AccessRules =
                [
                    new AccessRule { Service = Service, Subject = ClientSubsystem }, new AccessRule { Service = TypedService, Subject = ClientSubsystem },
                    new AccessRule { Service = RestService, Subject = ClientSubsystem },
                ],
            }).Write(provider.Paths.Settings);
            var client = await registry.EnrolApprovedAsync("client", NodeId.Parse(Client + "/ss1"), cancellationToken).ConfigureAwait(false);
            (NodeSettings.Read(client.Paths.Settings) with { Clients = [new ClientSettings { Subsystem = ClientSubsystem }] }).Write(client.Paths.Settings);

            progress.WriteLine("[2/6] Node processes (xbus node serve) and forwarder processes (xbus bench forwarder)");
            var (providerNode, _) = await StartNodeAsync("provider-node", provider.Paths, provider.PeerPort, logs, owned, cancellationToken).ConfigureAwait(false);
            var (clientNode, clientLocal) = await StartNodeAsync("client-node", client.Paths, client.PeerPort, logs, owned, cancellationToken).ConfigureAwait(false);
            var (forwarder2, forwarder2Address) = await StartForwarderAsync("forwarder-2", new Uri(backendAddress), logs, owned, cancellationToken).ConfigureAwait(false);
            var (forwarder1, forwarder1Address) = await StartForwarderAsync("forwarder-1", forwarder2Address, logs, owned, cancellationToken).ConfigureAwait(false);

            using var busChannel = BusChannel.Create(clientLocal, new BusChannelOptions());
            using var baselineChannel = BusChannel.Create(forwarder1Address, new BusChannelOptions());
            var payload = new byte[options.PayloadBytes];
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] = (byte)(i * 31);
            }

            var bus = new BenchTarget("bus", async token =>
            {
                var reply = await new LocalGateway.LocalGatewayClient(busChannel).CallAsync(new CallRequest
                {
                    Service = Service,
                    Client = ClientSubsystem,
                    UserId = "bench",
                    Payload = ByteString.CopyFrom(payload),
                }, new CallOptions(cancellationToken: token)).ResponseAsync.ConfigureAwait(false);
                return reply.Payload.Span.SequenceEqual(payload);
            });
            // The backend's own method on the client's node, named by metadata: what a typed stub sends.
            var typedHeaders = new Metadata
            {
                { TransparentGrpc.ClientHeader, ClientSubsystem },
                { TransparentGrpc.ServiceHeader, TypedService },
                { TransparentGrpc.UserIdHeader, "bench" },
            };
            var typed = new BenchTarget("typed gRPC", async token =>
                (await busChannel.CreateCallInvoker().AsyncUnaryCall(Forwarder.Echo, host: null, new CallOptions(typedHeaders, cancellationToken: token), payload).ResponseAsync.ConfigureAwait(false)).AsSpan().SequenceEqual(payload));
            // X-Road REST on the client's node: POST /r1/{service}/echo with X-Road-Client. The
            // development listener is plaintext HTTP/2 (h2c), so the client asks for exactly that.
            using var http = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
            var restUrl = new Uri(clientLocal, $"{RestGateway.PathPrefix}/{RestService}{RestPath}");
            var rest = new BenchTarget("REST", async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, restUrl)
                {
                    Content = new ByteArrayContent(payload),
                    Version = HttpVersion.Version20,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };
                request.Headers.Add(RestHeaders.Client, ClientSubsystem);
                request.Headers.Add(RestHeaders.UserId, "bench");
                using var response = await http.SendAsync(request, token).ConfigureAwait(false);
                return response.IsSuccessStatusCode && (await response.Content.ReadAsByteArrayAsync(token).ConfigureAwait(false)).AsSpan().SequenceEqual(payload);
            });
            var baseline = new BenchTarget("baseline", async token =>
                (await baselineChannel.CreateCallInvoker().AsyncUnaryCall(Forwarder.Echo, host: null, new CallOptions(cancellationToken: token), payload).ResponseAsync.ConfigureAwait(false)).AsSpan().SequenceEqual(payload));
            var busProcesses = new[] { clientNode, providerNode };
            var baselineProcesses = new[] { forwarder1, forwarder2 };

            // One call each way first: a set-up fault should stop the run, not show as errors.
            foreach (var target in new[] { baseline, bus, typed, rest })
            {
                var check = await LoadGenerator.BurstsAsync(target, 1, 1, cancellationToken).ConfigureAwait(false);
                if (check.Errors > 0)
                {
                    throw new CliException("Bench.FirstCallFailed", $"The first {target.Name} call failed: {check.FirstError}");
                }
            }

            if (options.WarmUp > TimeSpan.Zero)
            {
                progress.WriteLine($"      warming up, {options.WarmUp.TotalSeconds:0} s each");
                await LoadGenerator.ClosedLoopAsync(baseline, options.Concurrency, options.WarmUp, cancellationToken).ConfigureAwait(false);
                await LoadGenerator.ClosedLoopAsync(bus, options.Concurrency, options.WarmUp, cancellationToken).ConfigureAwait(false);
                await LoadGenerator.ClosedLoopAsync(typed, options.Concurrency, options.WarmUp, cancellationToken).ConfigureAwait(false);
                await LoadGenerator.ClosedLoopAsync(rest, options.Concurrency, options.WarmUp, cancellationToken).ConfigureAwait(false);
            }

            // Each phase runs on every path in turn; a path through the nodes is one more target here and one more field of PhaseSet.
            async Task<PhaseSet> PhaseAsync(Func<BenchTarget, Task<PhaseResult>> run) => new(
                Baseline: await MeasureAsync(baselineProcesses, () => run(baseline)).ConfigureAwait(false),
                Bus: await MeasureAsync(busProcesses, () => run(bus)).ConfigureAwait(false),
                TypedGrpc: await MeasureAsync(busProcesses, () => run(typed)).ConfigureAwait(false),
                Rest: await MeasureAsync(busProcesses, () => run(rest)).ConfigureAwait(false));

            progress.WriteLine($"[3/6] Closed loop: {options.Concurrency} callers, {options.Duration.TotalSeconds:0} s each");
            var closed = await PhaseAsync(target => LoadGenerator.ClosedLoopAsync(target, options.Concurrency, options.Duration, cancellationToken)).ConfigureAwait(false);

            progress.WriteLine($"[4/6] Open loop: {options.Rate:N0} calls/s, {options.Duration.TotalSeconds:0} s each; then {options.Rounds} × {options.InFlight:N0} calls in flight at once");
            var open = await PhaseAsync(target => LoadGenerator.OpenLoopAsync(target, options.Rate, options.Duration, cancellationToken)).ConfigureAwait(false);
            var bursts = await PhaseAsync(target => LoadGenerator.BurstsAsync(target, options.InFlight, options.Rounds, cancellationToken)).ConfigureAwait(false);

            // The streaming kinds by the typed path (Exchange.Stream: each message its own signed,
            // logged link) and through the forwarders; closed loop, per message beside unary's.
            progress.WriteLine($"[5/6] Streaming kinds, {options.StreamMessages} messages streamed a call: closed loop, {options.Concurrency} callers, {options.Duration.TotalSeconds:0} s each");
            var streams = new List<StreamingResult>();
            foreach (var kind in StreamingEcho.Kinds(options.StreamMessages))
            {
                var busKind = new BenchTarget($"typed gRPC {kind.Name}", token => StreamingEcho.CallAsync(busChannel.CreateCallInvoker(), kind, typedHeaders, payload, options.StreamMessages, token));
                var baselineKind = new BenchTarget($"baseline {kind.Name}", token => StreamingEcho.CallAsync(baselineChannel.CreateCallInvoker(), kind, null, payload, options.StreamMessages, token));
                foreach (var target in new[] { baselineKind, busKind })
                {
                    var check = await LoadGenerator.BurstsAsync(target, 1, 1, cancellationToken).ConfigureAwait(false);
                    if (check.Errors > 0)
                    {
                        throw new CliException("Bench.FirstCallFailed", $"The first {target.Name} call failed: {check.FirstError}");
                    }

                    if (options.WarmUp > TimeSpan.Zero)
                    {
                        await LoadGenerator.ClosedLoopAsync(target, options.Concurrency, options.WarmUp, cancellationToken).ConfigureAwait(false);
                    }
                }

                streams.Add(new StreamingResult(kind.Name, kind.MessagesPerCall,
                    Bus: await MeasureAsync(busProcesses, () => LoadGenerator.ClosedLoopAsync(busKind, options.Concurrency, options.Duration, cancellationToken)).ConfigureAwait(false),
                    Baseline: await MeasureAsync(baselineProcesses, () => LoadGenerator.ClosedLoopAsync(baselineKind, options.Concurrency, options.Duration, cancellationToken)).ConfigureAwait(false)));
            }

            progress.WriteLine("[6/6] Memory read, processes stopped with SIGTERM");
            var memory = busProcesses.Concat(baselineProcesses).Select(p => p.Memory()).ToArray();
            var exits = new List<string>();
            foreach (var process in busProcesses.Concat(baselineProcesses))
            {
                var code = await process.StopAsync().ConfigureAwait(false);
                if (code != 0)
                {
                    exits.Add($"{process.Name} {(code is null ? "had to be killed" : $"exited with {code}")}");
                }
            }

            return new ExchangeBenchmarkReport
            {
                StartedAt = started,
                Options = options,
                ProcessorCount = Environment.ProcessorCount,
                Runtime = Environment.Version.ToString(),
                LoadAverageBefore = loadBefore,
                LoadAverageAfter = LoadAverage(),
                ClosedLoop = closed,
                OpenLoop = open,
                Bursts = bursts,
                Streams = streams,
                Memory = memory,
                StopProblems = exits,
            };
        }
        finally
        {
            owned.Reverse();
            foreach (var item in owned)
            {
                await item.DisposeAsync().ConfigureAwait(false);
            }

            if (options.Keep)
            {
                progress.WriteLine($"Kept {root}");
            }
            else
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task<(ChildProcess Process, Uri Local)> StartNodeAsync(
        string name, NodePaths paths, int peerPort, string logs, List<IAsyncDisposable> owned, CancellationToken cancellationToken)
    {
        var local = Loopback.FreePort();
        var metrics = Loopback.FreePort();
        var process = ChildProcess.Start(name, logs, ChildProgram.Xbus,
        [
            "node", "serve", "--data", paths.DataDirectory,
            "--peer-listen", $"127.0.0.1:{peerPort}", "--development", "--local-listen", $"127.0.0.1:{local}", "--metrics-listen", $"127.0.0.1:{metrics}",
        ]);
        owned.Add(process);
        await process.WaitForReadyUrlAsync(new Uri($"http://127.0.0.1:{metrics}/health/ready"), StartTimeout, cancellationToken).ConfigureAwait(false);
        return (process, new Uri($"http://127.0.0.1:{local}"));
    }

    private static async Task<(ChildProcess Process, Uri Address)> StartForwarderAsync(
        string name, Uri next, string logs, List<IAsyncDisposable> owned, CancellationToken cancellationToken)
    {
        var port = Loopback.FreePort();
        var process = ChildProcess.Start(name, logs, ChildProgram.Bench,
            ["forwarder", "--port", port.ToString(CultureInfo.InvariantCulture), "--next", next.ToString()], Forwarder.ReadyText);
        owned.Add(process);
        await process.WaitForReadyLineAsync(StartTimeout, cancellationToken).ConfigureAwait(false);
        return (process, new Uri($"http://127.0.0.1:{port}"));
    }

    /// <summary>
    /// Runs a phase and adds the CPU time the target's two processes, and this process (load,
    /// backend), spent per answered call: on a shared machine a steadier figure than the rates.
    /// </summary>
    private static async Task<PhaseResult> MeasureAsync(ChildProcess[] processes, Func<Task<PhaseResult>> phase)
    {
        using var self = Process.GetCurrentProcess();
        var before = processes.Sum(p => p.CpuTime.TotalMilliseconds);
        var harnessBefore = self.TotalProcessorTime.TotalMilliseconds;
        var result = await phase().ConfigureAwait(false);
        self.Refresh();
        var harness = self.TotalProcessorTime.TotalMilliseconds - harnessBefore;
        var spent = processes.Sum(p => p.CpuTime.TotalMilliseconds) - before;
        var answered = result.Calls - result.Errors;
        return answered > 0 ? result with { CpuMsPerCall = spent / answered, HarnessCpuMsPerCall = harness / answered } : result;
    }

    /// <summary>The one-minute load average: says whether something else was busy on the machine.</summary>
    private static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>
    /// bench.Backend with its unary method Echo and its three streaming ones (bytes in, bytes out;
    /// the message type is empty because the node never parses the body, only the method's kind is read).
    /// </summary>
    private static Google.Protobuf.Reflection.FileDescriptorSet EchoDescriptorSet() => new()
    {
        File =
        {
            new Google.Protobuf.Reflection.FileDescriptorProto
            {
                Name = "bench/echo.proto",
                Package = "bench",
                Syntax = "proto3",
                MessageType = { new Google.Protobuf.Reflection.DescriptorProto { Name = "Blob" } },
                Service =
                {
                    new Google.Protobuf.Reflection.ServiceDescriptorProto
                    {
                        Name = "Backend",
                        Method =
                        {
                            new Google.Protobuf.Reflection.MethodDescriptorProto { Name = "Echo", InputType = ".bench.Blob", OutputType = ".bench.Blob" },
                            new Google.Protobuf.Reflection.MethodDescriptorProto { Name = "ServerStream", InputType = ".bench.Blob", OutputType = ".bench.Blob", ServerStreaming = true },
                            new Google.Protobuf.Reflection.MethodDescriptorProto { Name = "ClientStream", InputType = ".bench.Blob", OutputType = ".bench.Blob", ClientStreaming = true },
                            new Google.Protobuf.Reflection.MethodDescriptorProto { Name = "Bidi", InputType = ".bench.Blob", OutputType = ".bench.Blob", ClientStreaming = true, ServerStreaming = true },
                        },
                    },
                },
            },
        },
    };
}
