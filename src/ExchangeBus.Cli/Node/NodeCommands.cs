// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Text.Json;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using ExchangeBus.Node;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.WebConsole;
using Google.Protobuf;
using Serilog;

namespace ExchangeBus.Cli.Node;

/// <summary><c>xbus node …</c> and <c>xbus call</c>: an agency operator's commands.</summary>
internal static class NodeCommands
{
    private static readonly Option<string> DataOption = new("--data") { Description = "The node's data folder.", DefaultValueFactory = _ => "node-data" };

    public static Command Create(TimeProvider timeProvider)
    {
        var node = new Command("node", "A node (security server): join the bus, configure, serve.");
        node.Subcommands.Add(CreateInit(timeProvider));
        node.Subcommands.Add(CreateRegister(timeProvider));
        node.Subcommands.Add(CreateServe());
        node.Subcommands.Add(CreateClient(timeProvider));
        node.Subcommands.Add(CreateService(timeProvider));
        node.Subcommands.Add(CreateAcl(timeProvider));
        node.Subcommands.Add(NodeAuditLogCommands.Create(timeProvider));

        // The node must have been made (node init): the accounts go into its folder's admin.db.
        node.Subcommands.Add(ConsoleUserCommands.Create("node", "The node's data folder.", "node-data", (_, data, actor, account) =>
        {
            var paths = new NodePaths(data);
            NodeSettings.Read(paths.Settings);
            NodeAdminDatabase.Open(paths).Accounts(timeProvider).Add(actor, account);
        }));
        return node;
    }

    private static Command CreateInit(TimeProvider timeProvider)
    {
        var anchor = new Option<string>("--anchor") { Description = "The configuration anchor from the central authority.", Required = true };
        var id = new Option<string>("--node") { Description = "This node: INSTANCE/CLASS/MEMBER/NODECODE.", Required = true };
        var address = new Option<string>("--address") { Description = "host:port other nodes reach this node's peer listener at.", Required = true };
        var command = new Command("init", "Make the node's keys and send its registration to the registry.") { DataOption, anchor, id, address };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var nodeId = NodeId.TryParse(parse.GetValue(id), out var parsed, out var error)
                ? parsed!
                : throw new CliException(NodeErrors.InvalidIdentifier, error!.Message);
            var paths = new NodePaths(parse.GetValue(DataOption)!);
            var status = await NodeEnrollment.InitAsync(paths, parse.GetValue(anchor)!, nodeId, parse.GetValue(address)!, timeProvider, cancellationToken).ConfigureAwait(false);
            PrintRegistration(parse.InvocationConfiguration.Output, status, paths.DataDirectory);
            PrintFingerprint(parse.InvocationConfiguration.Output, status, paths);
        }));
        return command;
    }

    private static Command CreateRegister(TimeProvider timeProvider)
    {
        var wait = new Option<bool>("--wait") { Description = "Poll until the registration is decided." };
        var command = new Command("register", "Check the registration; fetch the certificates once approved.") { DataOption, wait };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var paths = new NodePaths(parse.GetValue(DataOption)!);
            var status = await NodeEnrollment.FetchAsync(paths, timeProvider, cancellationToken).ConfigureAwait(false);
            while (parse.GetValue(wait) && status.State == RegistrationState.Pending)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                status = await NodeEnrollment.FetchAsync(paths, timeProvider, cancellationToken).ConfigureAwait(false);
            }

            PrintRegistration(parse.InvocationConfiguration.Output, status, paths.DataDirectory);
            PrintFingerprint(parse.InvocationConfiguration.Output, status, paths);
            if (status.State == RegistrationState.Refused)
            {
                throw new CliException("Registry.RegistrationRefused", $"The registration was refused: {status.Reason}");
            }

            if (status.State == RegistrationState.Expired)
            {
                throw new CliException(RegistryErrors.RegistrationExpired, "The registration was not decided in time and has expired: register again with a new data folder (xbus node init).");
            }
        }));
        return command;
    }

    /// <summary>While pending: what the member's officer reads out to the central authority, who approves by it.</summary>
    private static void PrintFingerprint(TextWriter output, RegistrationStatus status, NodePaths paths)
    {
        if (status.State == RegistrationState.Pending)
        {
            output.WriteLine($"authentication key fingerprint: {NodeEnrollment.AuthenticationKeyFingerprint(paths)}");
            output.WriteLine("  (confirm it to the central authority out of band; it approves with --fingerprint)");
        }
    }

    private static void PrintRegistration(TextWriter output, RegistrationStatus status, string data) =>
        output.WriteLine(status.State switch
        {
            RegistrationState.Approved => $"registration {status.RegistrationId} approved; certificates saved. Start with: xbus node serve --data {data}",
            RegistrationState.Pending => $"registration {status.RegistrationId} pending: the central authority must approve it (xbus registry node approve {status.RegistrationId}); then run xbus node register --data {data}",
            _ => $"registration {status.RegistrationId}: {status.State} {status.Reason}",
        });

    private static Command CreateServe()
    {
        // No defaults here: NodeServerOptions holds them, and only a flag given wins over the file and the environment.
        var data = new Option<string>("--data") { Description = "The node's data folder [default: node-data]." };
        var peer = new Option<string>("--peer-listen") { Description = "Inter-node (mTLS) listener, ip:port [default: 127.0.0.1:5500]." };
        var local = new Option<string?>("--local-listen") { Description = "Plaintext local listener, with --development only: loopback ip:port, or 'off' [default with --development: 127.0.0.1:5600; otherwise off]." };
        var localTls = new Option<string?>("--local-tls-listen") { Description = "Local TLS listener for the agency's systems (certificates registered with `node client add --tls-cert`), ip:port." };
        var metrics = new Option<string>("--metrics-listen") { Description = "HTTP listener for /metrics and /health/*, ip:port [default: 127.0.0.1:5601]." };
        var development = new Option<bool>("--development") { Description = "Development only: serve the plaintext local listener, where any local process may claim any subsystem." };
        var production = new Option<bool>("--production") { Description = "Also refuse a development trust anchor; not with --development." };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Write logs as JSON lines." };
        var maxFile = new Option<long?>("--max-file-bytes") { Description = "File sync: the largest file this node accepts [default: 16 GiB]." };
        var retryBase = new Option<int?>("--file-retry-ms") { Description = "File sync: the first retry's delay; each further one doubles [default: 2000]." };
        var attempts = new Option<int?>("--file-max-attempts") { Description = "File sync: attempts per recipient before a delivery fails [default: 50]." };
        var parallelDeliveries = new Option<int?>("--file-parallel-deliveries") { Description = "File sync: deliveries pushed at once [default: 4]." };
        var freeReserve = new Option<long?>("--file-free-reserve-bytes") { Description = "File sync: free space a file (a peer's or one of the node's systems') must leave on the file store's disk [default: 536870912 (512 MiB)]." };
        var stalePartHours = new Option<double?>("--file-stale-part-hours") { Description = "File sync: a pushed file's part not written for this long is deleted [default: 168 (7 days)]." };
        var keepContentDays = new Option<double?>("--file-keep-content-days") { Description = "File sync: content is removed from the store this many days after every file naming it is final (acknowledged, superseded or failed); records and hashes stay [default: kept]." };
        var config = ServeConfiguration.FileOption("node");
        var command = new Command("serve", "Run the node until stopped (Ctrl+C or SIGTERM).") { data, peer, local, localTls, metrics, development, production, jsonLogs, maxFile, retryBase, attempts, parallelDeliveries, freeReserve, stalePartHours, keepContentDays, config };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            using var configuration = ServeConfiguration.Build(parse.GetValue(config), ServeConfiguration.GivenFlags(parse,
            [
                (data, "Data"), (peer, "PeerListen"), (local, "LocalListen"), (localTls, "LocalTlsListen"), (metrics, "MetricsListen"),
                (development, "Development"), (production, "Production"), (jsonLogs, ServeConfiguration.JsonLogs),
                (maxFile, "Files:MaxFileBytes"), (retryBase, "Files:RetryMilliseconds"), (attempts, "Files:MaxAttempts"),
                (parallelDeliveries, "Files:ParallelDeliveries"), (freeReserve, "Files:FreeReserveBytes"),
                (stalePartHours, "Files:StalePartHours"), (keepContentDays, "Files:KeepContentDays"),
            ]));
            var options = ServeConfiguration.Bind(configuration, new NodeServerOptions { DataDirectory = "node-data" }, new NodeServerOptionsValidator(), bound => SettleLocalListener(configuration, bound));
            using var logger = Logging.Create(ServeConfiguration.JsonLogsOf(configuration));
            await using var server = await NodeServer.StartAsync(options, builder => builder.AddSerilog(logger)).ConfigureAwait(false);
            var localAddress = options.LocalListen is null ? null : server.LocalAddress;
            var tlsFingerprint = server.LocalTlsCertificate is { } certificate ? InternalTlsCertificate.Fingerprint(certificate) : null;
            File.WriteAllText(new NodePaths(options.DataDirectory).Endpoints, JsonSerializer.Serialize(new
            {
                peer = server.PeerAddress, local = localAddress, localTls = server.LocalTlsAddress, localTlsCertificateSha256 = tlsFingerprint,
                metrics = server.MetricsAddress, console = server.ConsoleAddress, processId = Environment.ProcessId,
            }));
            parse.InvocationConfiguration.Output.WriteLine(
                $"node {server.Node} serving: peer {server.PeerAddress}  local {localAddress ?? "off"}  local TLS {server.LocalTlsAddress ?? "off"}  metrics {server.MetricsAddress}  console {server.ConsoleAddress ?? "off"}");
            if (tlsFingerprint is not null)
            {
                parse.InvocationConfiguration.Output.WriteLine($"local TLS certificate {new NodePaths(options.DataDirectory).InternalTlsCertificate} (SHA-256 {tlsFingerprint}): systems pin this one");
            }
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM or Ctrl+C: disposing the server finishes in-flight calls and flushes the log.
            }
        }));
        return command;
    }

    private static Command CreateClient(TimeProvider timeProvider)
    {
        var subsystem = new Argument<string>("subsystem") { Description = "INSTANCE/CLASS/MEMBER/SUBSYSTEM of the calling system." };
        var tls = new Option<string?>("--tls-cert-sha256") { Description = "SHA-256 (hex) of the TLS certificate the system must present on the local TLS listener." };
        var tlsFile = new Option<string?>("--tls-cert") { Description = "The system's TLS certificate (PEM or DER); its SHA-256 is registered." };
        var noBodies = new Option<bool>("--no-body-log") { Description = "Keep only body hashes in the message log for this client." };
        var add = new Command("add", "Register one of the owner's subsystems as a client of this node.") { subsystem, DataOption, tls, tlsFile, noBodies };
        add.SetAction((parse, cancellationToken) => EditAsync(parse, cancellationToken, timeProvider, "node.client.add", s =>
        {
            var pin = parse.GetValue(tls);
            if (parse.GetValue(tlsFile) is { } file)
            {
                using var certificate = PemFiles.ReadCertificate(file);
                pin = pin is null || string.Equals(pin, InternalTlsCertificate.Fingerprint(certificate), StringComparison.OrdinalIgnoreCase)
                    ? InternalTlsCertificate.Fingerprint(certificate)
                    : throw new NodeConfigurationException(NodeErrors.SettingsInvalid, "--tls-cert and --tls-cert-sha256 name different certificates.");
            }

            return s.WithClient(new ClientSettings
            {
                Subsystem = parse.GetValue(subsystem)!,
                TlsCertificateSha256 = pin?.ToUpperInvariant(),
                LogBodies = !parse.GetValue(noBodies),
            });
        }));
        var removed = new Argument<string>("subsystem") { Description = "INSTANCE/CLASS/MEMBER/SUBSYSTEM of the calling system." };
        var remove = new Command("remove", "Stop a subsystem calling through this node.") { removed, DataOption };
        remove.SetAction((parse, cancellationToken) => EditAsync(parse, cancellationToken, timeProvider, "node.client.remove", s => s.WithoutClient(parse.GetValue(removed)!)));
        var client = new Command("client", "The agency systems that call through this node.");
        client.Subcommands.Add(add);
        client.Subcommands.Add(remove);
        return client;
    }

    private static Command CreateService(TimeProvider timeProvider)
    {
        var service = new Argument<string>("service") { Description = "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION]." };
        var kind = new Option<string>("--backend") { Description = "grpc, http or rest.", Required = true };
        var address = new Option<string>("--address") { Description = "Backend URL: http(s)://host:port for gRPC, the endpoint URL for HTTP, the base URL for REST.", Required = true };
        var method = new Option<string?>("--method") { Description = "gRPC only: /package.Service/Method the payload is sent to." };
        var timeout = new Option<int>("--timeout-ms") { Description = "Backend deadline.", DefaultValueFactory = _ => 30_000 };
        var noBodies = new Option<bool>("--no-body-log") { Description = "Keep only body hashes in the message log for this service." };
        var add = new Command("add", "Provide a service through this node.") { service, DataOption, kind, address, method, timeout, noBodies };
        add.SetAction((parse, cancellationToken) => EditAsync(parse, cancellationToken, timeProvider, "node.service.add", s => s.WithService(new ServiceSettings
        {
            Service = parse.GetValue(service)!,
            LogBodies = !parse.GetValue(noBodies),
            Backend = new BackendSettings
            {
                Kind = string.Equals(parse.GetValue(kind), "grpc", StringComparison.OrdinalIgnoreCase) ? BackendKind.Grpc
                    : string.Equals(parse.GetValue(kind), "http", StringComparison.OrdinalIgnoreCase) ? BackendKind.Http
                    : string.Equals(parse.GetValue(kind), "rest", StringComparison.OrdinalIgnoreCase) ? BackendKind.Rest
                    : throw new CliException(NodeErrors.SettingsInvalid, "--backend must be grpc, http or rest."),
                Address = parse.GetValue(address)!,
                Method = parse.GetValue(method),
                TimeoutMilliseconds = parse.GetValue(timeout),
            },
        })));
        var removed = new Argument<string>("service") { Description = "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION]." };
        var remove = new Command("remove", "Stop providing a service through this node (its access rules stay until denied).") { removed, DataOption };
        remove.SetAction((parse, cancellationToken) => EditAsync(parse, cancellationToken, timeProvider, "node.service.remove", s => s.WithoutService(parse.GetValue(removed)!)));
        var command = new Command("service", "The services this node provides.");
        command.Subcommands.Add(add);
        command.Subcommands.Add(remove);
        return command;
    }

    private static Command CreateAcl(TimeProvider timeProvider)
    {
        var acl = new Command("acl", "Who may call this node's services (deny by default).");
        foreach (var allow in new[] { true, false })
        {
            var service = new Argument<string>("service");
            var subject = new Argument<string>("subject") { Description = "A member, a subsystem, or group:INSTANCE/GROUP." };
            var command = new Command(allow ? "allow" : "deny", allow ? "Allow a subject to call a service." : "Remove an allow rule.") { service, subject, DataOption };
            command.SetAction((parse, cancellationToken) => EditAsync(parse, cancellationToken, timeProvider, allow ? "node.acl.allow" : "node.acl.deny", s =>
            {
                var rule = new AccessRule { Service = parse.GetValue(service)!, Subject = parse.GetValue(subject)! };
                return allow ? s.WithRule(rule) : s.WithoutRule(rule);
            }));
            acl.Subcommands.Add(command);
        }

        var list = new Command("list", "Show the access rules.") { DataOption };
        list.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            foreach (var rule in NodeSettings.Read(new NodePaths(parse.GetValue(DataOption)!).Settings).AccessRules)
            {
                parse.InvocationConfiguration.Output.WriteLine($"allow {rule.Subject} -> {rule.Service}");
            }
        }));
        acl.Subcommands.Add(list);
        return acl;
    }

    /// <summary>
    /// Changes node.json through <see cref="NodeSettingsEditor"/> (locked against the console's
    /// edits, validated, written atomically) and records it in the node's admin audit log with
    /// the operating-system account as the actor, as the console records its people.
    /// </summary>
    private static Task<int> EditAsync(
        ParseResult parse, CancellationToken cancellationToken, TimeProvider timeProvider, string action, Func<NodeSettings, NodeSettings> change) =>
        CommandRunner.RunAsync(parse, cancellationToken, async () =>
    {
        var paths = new NodePaths(parse.GetValue(DataOption)!);

        // Read first: a folder without node.json gets the "run node init" answer, not a fresh admin.db.
        _ = NodeSettings.Read(paths.Settings);
        var editor = new NodeSettingsEditor(paths, NodeAdminDatabase.Open(paths).Accounts(timeProvider), timeProvider);
        var changed = await editor.EditAsync("cli:" + Environment.UserName, action, change, cancellationToken).ConfigureAwait(false);
        parse.InvocationConfiguration.Output.WriteLine(changed
            ? $"{paths.Settings} updated (a running node applies it within seconds)."
            : $"{paths.Settings} unchanged: it already said so.");
    });

    public static Command CreateCall()
    {
        var node = new Option<string>("--node") { Description = "The node's local address.", DefaultValueFactory = _ => "http://127.0.0.1:5600" };
        var client = new Option<string>("--client") { Description = "Calling subsystem, registered on that node.", Required = true };
        var service = new Option<string>("--service") { Description = "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION].", Required = true };
        var user = new Option<string?>("--user-id") { Description = "The official making the call." };
        var subject = new Option<string?>("--subject-id") { Description = "The citizen the data is about." };
        var issue = new Option<string?>("--issue") { Description = "Case or issue number." };
        var payload = new Option<string?>("--payload") { Description = "Request payload as UTF-8 text." };
        var payloadFile = new Option<string?>("--payload-file") { Description = "Request payload from a file." };
        var json = new Option<bool>("--json") { Description = "Print the answer as JSON." };
        var command = new Command("call", "Call a service through a node, as an agency system would.") { node, client, service, user, subject, issue, payload, payloadFile, json };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var body = parse.GetValue(payloadFile) is { } file ? await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false)
                : System.Text.Encoding.UTF8.GetBytes(parse.GetValue(payload) ?? string.Empty);
            using var channel = BusChannel.Create(new Uri(parse.GetValue(node)!), new BusChannelOptions());
            var reply = await new LocalGateway.LocalGatewayClient(channel).CallAsync(new CallRequest
            {
                Client = parse.GetValue(client)!,
                Service = parse.GetValue(service)!,
                UserId = parse.GetValue(user) ?? string.Empty,
                SubjectId = parse.GetValue(subject) ?? string.Empty,
                Issue = parse.GetValue(issue) ?? string.Empty,
                Payload = ByteString.CopyFrom(body),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonFormatter.Default.Format(reply));
            }
            else
            {
                output.WriteLine($"message {reply.MessageId} answered by {reply.ProviderNode}:");
                output.WriteLine(reply.Payload.ToStringUtf8());
            }
        }));
        return command;
    }

    /// <summary>"off" turns the plaintext listener off; a development node has it on its default address unless told otherwise, any other none.</summary>
    internal static NodeServerOptions SettleLocalListener(IConfiguration configuration, NodeServerOptions bound) => bound with
    {
        LocalListen = configuration["LocalListen"] switch
        {
            { } listen when string.Equals(listen, "off", StringComparison.OrdinalIgnoreCase) => null,
            null when bound.Development => NodeServerOptions.DevelopmentLocalListen,
            _ => bound.LocalListen,
        },
    };
}
