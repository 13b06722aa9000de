// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Files;
using TransparentGrpc = ExchangeBus.Node.Gateway.TransparentGrpc;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.WebConsole;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Accounts;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ExchangeBus.Cli.Demo;

/// <summary>
/// <c>xbus demo</c>: the central registry and three agency nodes on loopback, joined through the
/// real registration flow (an administrator approves each), with sample backends; calls made,
/// one refused, the audit trails verified. Everything lives in a temporary folder.
/// </summary>
internal static class DemoCommand
{
    private const string Mps = "VN/GOV/000.00.00.H01";
    private const string Mot = "VN/GOV/000.00.00.G01";
    private const string Province = "VN/GOV/000.00.00.P01";
    private const string CitizenRegistry = Mps + "/citizen-registry";
    private const string DrivingLicence = Mot + "/driving-licence";
    private const string OneStop = Province + "/one-stop";
    private const string GetCitizen = CitizenRegistry + "/getCitizen/v1";

    /// <summary>The registry's own gRPC service (proto/samples/citizen_registry.proto) as one bus service: typed calls.</summary>
    private const string CitizenRegistryGrpc = CitizenRegistry + "/citizenRegistry/v1";

    /// <summary>The citizen registry backend's own gRPC method, which the node forwards to.</summary>
    private const string CitizenMethod = "/demo.CitizenRegistry/GetCitizen";
    private const string GetRecord = CitizenRegistry + "/getCriminalRecord/v1";
    private const string CheckLicence = DrivingLicence + "/checkLicence/v1";

    /// <summary>The licence office's REST service (X-Road r1): five parts, no version; the path after it is the backend's own.</summary>
    private const string LicencesRest = DrivingLicence + "/licenceRegistry";
    private const string DemoConsoleAccount = "officer";
    private const string DemoNodeOperator = "operator";
    private const string DemoNodeAuditor = "auditor";

    public static Command Create()
    {
        var keep = new Option<bool>("--keep-running") { Description = "Leave the bus up and print its endpoints until Ctrl+C." };
        var command = new Command("demo", "Run a registry and three agency nodes on loopback, make calls, show a refusal, sync a dossier, verify the trails.") { keep };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, () => RunAsync(parse.InvocationConfiguration.Output, parse.GetValue(keep), cancellationToken)));
        return command;
    }

    private static async Task RunAsync(TextWriter output, bool keepRunning, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("xbus-demo-").FullName;
        var owned = new List<IAsyncDisposable>();
        try
        {
            output.WriteLine($"[1/9] Central registry for instance VN, data in {root}/registry");
            var registry = await LoopbackRegistry.StartAsync(root, autoApprove: false, console: keepRunning).ConfigureAwait(false);
            owned.Add(registry);

            // A throwaway account for the console, made only when someone can use it.
            var consolePassword = keepRunning ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)) : string.Empty;
            if (keepRunning)
            {
                registry.Server.Store.Add("xbus demo", new ConsoleAccount(DemoConsoleAccount,
                    new HashSet<ConsoleRole> { ConsoleRole.RegistrationOfficer, ConsoleRole.Auditor }, ConsolePasswords.Hash(consolePassword), 0, null));
            }

            var admin = registry.Admin;
            foreach (var (member, name, subsystem) in new[]
            {
                (Mps, "Ministry of Public Security", CitizenRegistry),
                (Mot, "Ministry of Transport", DrivingLicence),
                (Province, "Provincial People's Committee", OneStop),
            })
            {
                await registry.AddMemberAsync(member, name, subsystem).ConfigureAwait(false);
                output.WriteLine($"      member {member} ({name}), subsystem {subsystem}");
            }

            await admin.AddGlobalGroupAsync(new AddGlobalGroupRequest { Group = "VN/one-stop-shops", Description = "Provincial one-stop shops" }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
            await admin.SetGlobalGroupMemberAsync(new SetGlobalGroupMemberRequest { Group = "VN/one-stop-shops", Member = OneStop, Present = true }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
            var anchorPath = registry.AnchorPath;
            output.WriteLine($"      registry at {registry.Server.GrpcAddress}, TSA and OCSP at {registry.Server.HttpAddress}; anchor fingerprint {registry.Anchor.FingerprintForReading}");

            output.WriteLine("[2/9] Sample backends: citizen registry (gRPC, its own CitizenRegistry service), driving licences (HTTP, and a REST API: GET /licences/{id})");
            var citizenBackend = await StartBackendAsync(owned, grpc: true).ConfigureAwait(false);
            var licenceBackend = await StartBackendAsync(owned, grpc: false).ConfigureAwait(false);

            output.WriteLine("[3/9] Three nodes join: keys made, CSRs sent, an administrator approves, certificates fetched");
            var nodes = new Dictionary<string, NodeServer>(StringComparer.Ordinal);

            // The client subsystem each node serves, for the ready-to-paste calls of --keep-running.
            var callers = new Dictionary<string, string>(StringComparer.Ordinal) { [Mot] = DrivingLicence, [Province] = OneStop };
            foreach (var (member, code) in new[] { (Mps, "ss-mps"), (Mot, "ss-mot"), (Province, "ss-p01") })
            {
                var port = Loopback.FreePort();
                var paths = new NodePaths(Path.Combine(root, code));
                var status = await NodeEnrollment.InitAsync(paths, anchorPath, NodeId.Parse($"{member}/{code}"), $"127.0.0.1:{port}", TimeProvider.System, cancellationToken).ConfigureAwait(false);
                output.WriteLine($"      {member}/{code}: registration {status.RegistrationId[..8]}… {status.State}");
                await admin.ApproveRegistrationAsync(new DecideRegistrationRequest { RegistrationId = status.RegistrationId, Reason = "demo" }, Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
                status = await NodeEnrollment.FetchAsync(paths, TimeProvider.System, cancellationToken).ConfigureAwait(false);
                output.WriteLine($"      approved; certificates saved (configuration version {status.ConfigurationVersion})");
                var settings = NodeSettings.Read(paths.Settings);
                settings = member switch
                {
                    Mps => settings with
                    {
                        Services =
                        [
                            new ServiceSettings { Service = GetCitizen, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = citizenBackend, Method = CitizenMethod } },
                            new ServiceSettings { Service = GetRecord, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = citizenBackend, Method = CitizenMethod } },
                            new ServiceSettings { Service = CitizenRegistryGrpc, Backend = new BackendSettings { Kind = BackendKind.Grpc, Address = citizenBackend, GrpcService = SampleCitizenRegistry.ServiceName } },
                        ],
                        AccessRules =
                        [
                            new AccessRule { Service = GetCitizen, Subject = "group:VN/one-stop-shops" }, new AccessRule { Service = GetCitizen, Subject = DrivingLicence },
                            new AccessRule { Service = CitizenRegistryGrpc, Subject = "group:VN/one-stop-shops" }, new AccessRule { Service = CitizenRegistryGrpc, Subject = DrivingLicence },
                        ],
                    },
                    Mot => settings with
                    {
                        Clients = [new ClientSettings { Subsystem = DrivingLicence }],
                        Services =
                        [
                            new ServiceSettings { Service = CheckLicence, Backend = new BackendSettings { Kind = BackendKind.Http, Address = licenceBackend } },
                            new ServiceSettings { Service = LicencesRest, Backend = new BackendSettings { Kind = BackendKind.Rest, Address = new Uri(licenceBackend).GetLeftPart(UriPartial.Authority) } },
                        ],
                        AccessRules =
                        [
                            new AccessRule { Service = CheckLicence, Subject = OneStop }, new AccessRule { Service = DrivingLicence + "/" + FileDocuments.ServiceCode, Subject = OneStop },
                            new AccessRule { Service = LicencesRest, Subject = OneStop }, new AccessRule { Service = LicencesRest, Subject = DrivingLicence },
                        ],
                    },
                    _ => settings with { Clients = [new ClientSettings { Subsystem = OneStop }] },
                };
                settings.Write(paths.Settings);
                if (keepRunning)
                {
                    var accounts = NodeAdminDatabase.Open(paths).Accounts(TimeProvider.System);
                    accounts.Add("xbus demo", new ConsoleAccount(DemoNodeOperator,
                        new HashSet<ConsoleRole> { ConsoleRole.SystemAdministrator, ConsoleRole.ServiceAdministrator, ConsoleRole.SecurityOfficer },
                        ConsolePasswords.Hash(consolePassword), 0, null));
                    accounts.Add("xbus demo", new ConsoleAccount(DemoNodeAuditor, new HashSet<ConsoleRole> { ConsoleRole.Auditor }, ConsolePasswords.Hash(consolePassword), 0, null));
                }

                nodes[member] = await NodeServer.StartAsync(new NodeServerOptions
                {
                    DataDirectory = paths.DataDirectory,
                    PeerListen = $"127.0.0.1:{port}",
                    // The demo calls over the plaintext listener: a development bus on one machine.
                    Development = true,
                    LocalListen = "127.0.0.1:0",
                    MetricsListen = "127.0.0.1:0",
                    Console = new ConsoleOptions { Listen = keepRunning ? "127.0.0.1:0" : null },
                }).ConfigureAwait(false);
                owned.Insert(0, nodes[member]);
            }

            // The nodes joined one after another; each reads the final configuration once.
            foreach (var node in nodes.Values)
            {
                await node.Configuration.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }

            output.WriteLine("[4/9] Calls through the bus (signed, mutual TLS, logged on both nodes)");
            using var province = BusChannel.Create(new Uri(nodes[Province].LocalAddress), new BusChannelOptions());
            using var transport = BusChannel.Create(new Uri(nodes[Mot].LocalAddress), new BusChannelOptions());
            await ShowCallAsync(output, province, OneStop, GetCitizen, "079201000123", "one-stop shop asks the citizen registry for a citizen").ConfigureAwait(false);
            await ShowCallAsync(output, province, OneStop, CheckLicence, "079201000123", "one-stop shop asks the transport ministry about a driving licence").ConfigureAwait(false);
            await ShowCallAsync(output, transport, DrivingLicence, GetCitizen, "079201000456", "transport ministry checks a licence holder's identity").ConfigureAwait(false);

            output.WriteLine("[5/9] Typed gRPC: the one-stop shop's system calls with the registry's own CitizenRegistry stub (proto/samples/citizen_registry.proto), pointed at its node");
            await new DemoTypedGrpc(output, province, OneStop, CitizenRegistryGrpc).RunAsync(cancellationToken).ConfigureAwait(false);

            output.WriteLine("[6/9] REST (X-Road r1): the one-stop shop's system asks the licence office's REST API with HttpClient, through its node");
            await DemoRest.RunAsync(output, nodes[Province].LocalAddress, OneStop, LicencesRest, cancellationToken).ConfigureAwait(false);

            output.WriteLine("[7/9] A call the access list refuses (the backend is never reached)");
            await ShowCallAsync(output, transport, DrivingLicence, GetRecord, "079201000456", "transport ministry asks for a criminal record").ConfigureAwait(false);

            output.WriteLine("[8/9] File sync: the one-stop shop sends dossier HS-2026-0001 (an application and two attachments) to the driving-licence office");
            await DemoFileSync.RunAsync(output, province, OneStop, transport, DrivingLicence, "HS-2026-0001", cancellationToken).ConfigureAwait(false);

            output.WriteLine("[9/9] Audit trails");
            foreach (var (member, node) in nodes)
            {
                var verification = node.Log.Verify();
                output.WriteLine($"      {member}: {node.Log.Count()} message log records, hash chain {(verification.IsValid ? "intact" : "BROKEN: " + verification.Problem)}");
            }

            var audit = await admin.VerifyAuditLogAsync(new VerifyAuditLogRequest(), Loopback.AdminCall()).ResponseAsync.ConfigureAwait(false);
            output.WriteLine($"      registry admin audit log: {audit.Entries} entries, chain {(audit.Valid ? "intact" : "BROKEN")}");

            if (keepRunning)
            {
                output.WriteLine("The bus stays up; Ctrl+C stops it.");
                output.WriteLine($"  registry  {registry.Server.GrpcAddress}  (TSA/OCSP {registry.Server.HttpAddress})");
                output.WriteLine($"  registry console {registry.Server.ConsoleAddress}  (self-signed certificate)  login {DemoConsoleAccount} / {consolePassword}");
                foreach (var (member, node) in nodes)
                {
                    output.WriteLine($"  {member,-22} local gRPC {node.LocalAddress} (plaintext, development)  peer {node.PeerAddress}  metrics {node.MetricsAddress}/metrics");
                    output.WriteLine($"      console {node.ConsoleAddress}  (self-signed certificate)  login {DemoNodeOperator} or {DemoNodeAuditor} / {consolePassword}");
                    if (callers.TryGetValue(member, out var caller))
                    {
                        output.WriteLine($"      as {caller}: {GrpcurlLine(node, caller)}");
                        output.WriteLine($"      as {caller} (REST): {DemoRest.CurlLine(node.LocalAddress, caller, LicencesRest)}");
                    }
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            output.WriteLine("Demo complete.");
        }
        finally
        {
            foreach (var item in owned)
            {
                await item.DisposeAsync().ConfigureAwait(false);
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task ShowCallAsync(TextWriter output, GrpcChannel channel, string client, string service, string subject, string story)
    {
        output.WriteLine($"      {story}:");
        try
        {
            var reply = await new LocalGateway.LocalGatewayClient(channel).CallAsync(new CallRequest
            {
                Client = client,
                Service = service,
                UserId = "officer-042",
                SubjectId = subject,
                Issue = "HS-2026-0001",
                Payload = ByteString.CopyFromUtf8($"{{\"citizenId\":\"{subject}\"}}"),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30))).ResponseAsync.ConfigureAwait(false);
            output.WriteLine($"        answered by {reply.ProviderNode}: {reply.Payload.ToStringUtf8()}");
        }
        catch (RpcException ex)
        {
            output.WriteLine($"        refused: {ex.ErrorCode} ({ex.Status.Detail}) correlation id {ex.CorrelationId}");
        }
    }

    /// <summary>A typed call of the sample registry through <paramref name="node"/>, as <paramref name="client"/>, to paste into a shell.</summary>
    private static string GrpcurlLine(NodeServer node, string client) =>
        $"grpcurl -plaintext -import-path {SampleProtoRoot()} -proto samples/citizen_registry.proto "
        + $"-H '{TransparentGrpc.ClientHeader}: {client}' -H '{TransparentGrpc.ServiceHeader}: {CitizenRegistryGrpc}' "
        + $"-d '{{\"citizen_id\": \"{DemoTypedGrpc.KnownCitizen}\"}}' {new Uri(node.LocalAddress).Authority} {SampleCitizenRegistry.ServiceName}/GetCitizen";

    /// <summary>The checkout's proto/ folder (xbus runs from its build output inside it), else the relative path.</summary>
    private static string SampleProtoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "proto", "samples", "citizen_registry.proto")))
                {
                    return Path.Combine(dir.FullName, "proto");
                }
            }
        }

        return "proto";
    }

    /// <summary>A sample agency backend: gRPC (a method taking raw bytes, and the typed <see cref="SampleCitizenRegistry"/>), or an HTTP endpoint (POST /licence).</summary>
    internal static async Task<string> StartBackendAsync(List<IAsyncDisposable> owned, bool grpc, int port = 0)
    {
        var host = await LoopbackHost.StartAsync(port, grpc, app =>
        {
            if (grpc)
            {
                app.MapBytesGrpcService(methods => methods.AddUnary(BytesGrpcMethods.Method(MethodType.Unary, CitizenMethod), (request, context) => Task.FromResult(Encoding.UTF8.GetBytes(
                    $"{{\"citizenId\":\"{context.RequestHeaders.GetValue("x-xbus-subject-id")}\",\"name\":\"Nguyen Van A\",\"born\":\"1990-05-17\",\"askedBy\":\"{context.RequestHeaders.GetValue("x-xbus-client")}\"}}"))));
                app.MapGrpcService<SampleCitizenRegistry>();
            }
            else
            {
                app.MapGet("/health/live", () => Results.Text("live"));
                // The licence office's REST API, as its own developers wrote it (the rest backend kind).
                app.MapGet("/licences/{id}", (string id, HttpRequest request) => Results.Json(new { holder = id, @class = "B2", valid = true, askedBy = request.Headers["X-Road-Client"].ToString() }));
                app.MapPost("/licence", (HttpRequest request) => Results.Text(
                    $"{{\"holder\":\"{request.Headers["X-Xbus-Subject-Id"]}\",\"class\":\"B2\",\"valid\":true,\"askedBy\":\"{request.Headers["X-Road-Client"]}\"}}", "application/json"));
            }
        }).ConfigureAwait(false);
        owned.Add(host);
        return grpc ? host.Address.ToString().TrimEnd('/') : new Uri(host.Address, "/licence").ToString();
    }
}
