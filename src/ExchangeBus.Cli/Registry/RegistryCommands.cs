// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Cli.Audit;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using Grpc.Core;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.WebConsole;
using Google.Protobuf;
using Serilog;

namespace ExchangeBus.Cli.Registry;

/// <summary><c>xbus registry …</c>: the central authority's operations.</summary>
internal static class RegistryCommands
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    public static Command Create(TimeProvider timeProvider)
    {
        var registry = new Command("registry", "The central registry: members, nodes, certificates, global configuration, TSA and OCSP.");
        registry.Subcommands.Add(CreateInit(timeProvider));
        registry.Subcommands.Add(CreateServe());
        var usersPostgres = PostgresOption();
        registry.Subcommands.Add(ConsoleUserCommands.Create("registry", "The registry's data folder.", RegistryConnection.DefaultDataDirectory, (parse, data, actor, account) =>
        {
            using var keys = RegistryKeys.Load(Path.Combine(data, RegistryKeys.Folder), timeProvider);
            using var database = RegistryDatabase.OpenInitialised(data, PostgresOf(parse, usersPostgres));
            new RegistryStore(database, keys, timeProvider).Add(actor, account);
        }, usersPostgres));
        registry.Subcommands.Add(Group("member-class", "Member classes (e.g. GOV, COM).",
            Management<AddMemberClassRequest, ChangeResult>("add", "Add a member class.", (c, r, o) => c.AddMemberClassAsync(r, o),
                [Arg("code")], [Opt("--description", "What the class is.")], (a, o) => new AddMemberClassRequest { Code = a[0], Description = o[0] ?? string.Empty }, PrintChange)));
        registry.Subcommands.Add(Group("member", "Members: ministries, provinces, agencies.",
            Management<AddMemberRequest, ChangeResult>("add", "Add a member, e.g. VN/GOV/000.00.00.G01.", (c, r, o) => c.AddMemberAsync(r, o),
                [Arg("member")], [Opt("--name", "The member's name.", required: true)], (a, o) => new AddMemberRequest { Member = a[0], Name = o[0]! }, PrintChange),
            Management<SetEnabledRequest, ChangeResult>("disable", "Disable a member: it leaves the global configuration.", (c, r, o) => c.SetMemberEnabledAsync(r, o),
                [Arg("member")], [], (a, _) => new SetEnabledRequest { Id = a[0], Enabled = false }, PrintChange),
            Management<SetEnabledRequest, ChangeResult>("enable", "Enable a disabled member.", (c, r, o) => c.SetMemberEnabledAsync(r, o),
                [Arg("member")], [], (a, _) => new SetEnabledRequest { Id = a[0], Enabled = true }, PrintChange),
            Management<ListMembersRequest, ListMembersResponse>("list", "List members and their subsystems.", (c, r, o) => c.ListMembersAsync(r, o),
                [], [], (_, _) => new ListMembersRequest(), (o, r) =>
                {
                    foreach (var m in r.Members)
                    {
                        o.WriteLine($"{m.Member}  {(m.Enabled ? "enabled " : "disabled")}  {m.Name}");
                        foreach (var s in m.Subsystems)
                        {
                            o.WriteLine($"  {s.Subsystem}  {(s.Enabled ? "enabled" : "disabled")}");
                        }
                    }
                })));
        registry.Subcommands.Add(Group("subsystem", "Subsystems: a member's information systems.",
            Management<AddSubsystemRequest, ChangeResult>("add", "Add a subsystem, e.g. VN/GOV/000.00.00.G01/dossier.", (c, r, o) => c.AddSubsystemAsync(r, o),
                [Arg("subsystem")], [], (a, _) => new AddSubsystemRequest { Subsystem = a[0] }, PrintChange),
            Management<SetEnabledRequest, ChangeResult>("disable", "Disable a subsystem.", (c, r, o) => c.SetSubsystemEnabledAsync(r, o),
                [Arg("subsystem")], [], (a, _) => new SetEnabledRequest { Id = a[0], Enabled = false }, PrintChange),
            Management<SetEnabledRequest, ChangeResult>("enable", "Enable a subsystem.", (c, r, o) => c.SetSubsystemEnabledAsync(r, o),
                [Arg("subsystem")], [], (a, _) => new SetEnabledRequest { Id = a[0], Enabled = true }, PrintChange)));
        registry.Subcommands.Add(Group("node", "Nodes (security servers) and their registrations.",
            Management<ListNodesRequest, ListNodesResponse>("list", "List registered nodes.", (c, r, o) => c.ListNodesAsync(r, o),
                [], [], (_, _) => new ListNodesRequest(), (o, r) =>
                {
                    foreach (var n in r.Nodes)
                    {
                        o.WriteLine($"{n.Node}  {n.Address}  auth sha256 {Convert.ToHexString(n.AuthCertificateSha256.Span)}");
                    }
                }),
            Management<ListRegistrationsRequest, ListRegistrationsResponse>("registrations", "List registration requests (--pending for those awaiting a decision).", (c, r, o) => c.ListRegistrationsAsync(r, o),
                [], [Flag("--pending", "Only pending ones.")], (_, o) => o[0] is not null ? new ListRegistrationsRequest { States = { RegistrationState.Pending } } : new ListRegistrationsRequest(), (o, r) =>
                {
                    foreach (var g in r.Registrations)
                    {
                        o.WriteLine($"{g.RegistrationId}  {g.State,-30} {g.Member}/{g.NodeCode}  {g.Address}  {g.SubmittedAt.ToDateTimeOffset():u}  {g.Reason}");
                        if (g.AuthKeySha256.Length > 0)
                        {
                            o.WriteLine($"    authentication key fingerprint {g.AuthKeySha256}");
                        }

                        if (g.State == RegistrationState.Pending)
                        {
                            o.WriteLine($"    expires {g.ExpiresAt.ToDateTimeOffset():u}{(g.ReplacesNode.Length > 0 ? $"; replaces node {g.ReplacesNode} (approving revokes its certificates)" : string.Empty)}");
                        }
                    }
                }),
            Management<DecideRegistrationRequest, RegistrationStatus>("approve",
                "Approve a registration: issue the node's certificates and list it. Give the authentication key fingerprint the member's officer confirmed out of band (required when several are pending for the node).",
                (c, r, o) => c.ApproveRegistrationAsync(r, o),
                [Arg("registration-id")], [Opt("--reason", "Why (recorded in the audit log)."), Opt("--fingerprint", "The node's authentication key fingerprint (SHA-256 hex, as `xbus node init` printed it).")],
                (a, o) => new DecideRegistrationRequest { RegistrationId = a[0], Reason = o[0] ?? string.Empty, AuthKeySha256 = o[1] ?? string.Empty }, PrintRegistration),
            Management<DecideRegistrationRequest, RegistrationStatus>("refuse", "Refuse a registration.", (c, r, o) => c.RefuseRegistrationAsync(r, o),
                [Arg("registration-id")], [Opt("--reason", "Why (recorded in the audit log).", required: true)], (a, o) => new DecideRegistrationRequest { RegistrationId = a[0], Reason = o[0]! }, PrintRegistration)));
        registry.Subcommands.Add(Group("group", "Global groups (e.g. all provincial one-stop shops).",
            Management<AddGlobalGroupRequest, ChangeResult>("add", "Add a global group, e.g. VN/one-stop-shops.", (c, r, o) => c.AddGlobalGroupAsync(r, o),
                [Arg("group")], [Opt("--description", "What the group is.")], (a, o) => new AddGlobalGroupRequest { Group = a[0], Description = o[0] ?? string.Empty }, PrintChange),
            Management<SetGlobalGroupMemberRequest, ChangeResult>("add-member", "Add a member or subsystem to a group.", (c, r, o) => c.SetGlobalGroupMemberAsync(r, o),
                [Arg("group"), Arg("member")], [], (a, _) => new SetGlobalGroupMemberRequest { Group = a[0], Member = a[1], Present = true }, PrintChange),
            Management<SetGlobalGroupMemberRequest, ChangeResult>("remove-member", "Remove a member or subsystem from a group.", (c, r, o) => c.SetGlobalGroupMemberAsync(r, o),
                [Arg("group"), Arg("member")], [], (a, _) => new SetGlobalGroupMemberRequest { Group = a[0], Member = a[1], Present = false }, PrintChange)));
        registry.Subcommands.Add(Group("cert", "Certificates the registry issued.",
            Management<ListCertificatesRequest, ListCertificatesResponse>("list", "List issued certificates and their status.", (c, r, o) => c.ListCertificatesAsync(r, o),
                [], [], (_, _) => new ListCertificatesRequest(), (o, r) =>
                {
                    foreach (var c in r.Certificates)
                    {
                        o.WriteLine($"{c.SerialNumber}  {c.Profile,-18} {(c.Revoked ? "REVOKED " + c.RevocationReason : "good")}  {c.Subject}");
                    }
                }),
            Management<RevokeCertificateRequest, ChangeResult>("revoke", "Revoke a certificate by serial number (a node's, an auditor's, an administrator's, the OCSP responder's or the TSA's); OCSP answers revoked at once, and the next configuration drops a revoked node, responder or TSA.", (c, r, o) => c.RevokeCertificateAsync(r, o),
                [Arg("serial")], [Opt("--reason", "RFC 5280 reason, e.g. keyCompromise (default unspecified).")], (a, o) => new RevokeCertificateRequest { SerialNumber = a[0], Reason = o[0] ?? string.Empty }, PrintChange)));
        var auditLog = Group("audit-log", "The admin audit log: every change, accepted or refused.",
            Management<QueryAuditLogRequest, QueryAuditLogResponse>("query", "Show entries.", (c, r, o) => c.QueryAuditLogAsync(r, o),
                [], [Opt("--after", "Only entries after this sequence number."), Opt("--limit", "At most this many (default 100)."), Opt("--actor", "Only this actor."), Opt("--action", "Only this action.")],
                (_, o) => new QueryAuditLogRequest
                {
                    AfterSequence = ulong.Parse(o[0] ?? "0", System.Globalization.CultureInfo.InvariantCulture),
                    Limit = uint.Parse(o[1] ?? "100", System.Globalization.CultureInfo.InvariantCulture),
                    Actor = o[2] ?? string.Empty,
                    Action = o[3] ?? string.Empty,
                },
                (o, r) =>
                {
                    foreach (var e in r.Entries)
                    {
                        o.WriteLine(AdminAuditLines.Line((long)e.Sequence, e.At.ToDateTimeOffset(), e.Accepted, e.Action, e.Actor, e.ErrorCode, e.After));
                    }
                }),
            Management<VerifyAuditLogRequest, VerifyAuditLogResponse>("verify", "Recompute the hash chain of the whole log.", (c, r, o) => c.VerifyAuditLogAsync(r, o),
                [], [], (_, _) => new VerifyAuditLogRequest(), (o, r) =>
                    o.WriteLine(r.Valid ? $"audit log intact: {r.Entries} entries" : $"AUDIT LOG BROKEN at entry {r.FirstBadSequence}: {r.Problem}"),
                r => r.Valid ? null : $"error {AdminAuditErrors.ChainBroken}: the admin audit log is broken at entry {r.FirstBadSequence}: {r.Problem}"));
        registry.Subcommands.Add(auditLog);
        registry.Subcommands.Add(AuditorCommands.Create());
        registry.Subcommands.Add(AdministratorCommands.Create());
        registry.Subcommands.Add(Group("anchor", "The configuration anchor nodes are installed with.", CreateAnchorExport(timeProvider)));
        return registry;
    }

    private static Command CreateInit(TimeProvider timeProvider)
    {
        var data = new Option<string>("--data") { Description = "The registry's data folder.", DefaultValueFactory = _ => RegistryConnection.DefaultDataDirectory };
        var instance = new Option<string>("--instance") { Description = "Instance code, e.g. VN.", Required = true };
        var keys = new Option<string?>("--keys") { Description = "Use this existing key set (made by `xbus pki dev-init`) instead of creating one." };
        var autoApprove = new Option<bool>("--auto-approve") { Description = "Approve node registrations without an operator's decision (development)." };
        var parametersFile = new Option<string?>("--parameters")
        {
            Description = "A JSON file of global configuration parameters (docs/registry.md), e.g. {\"validitySeconds\": 600}; the rest keep X-Road's defaults.",
        };
        var postgres = PostgresOption();
        var command = new Command("init", "Create a registry: its database and its keys (a development set unless --keys).")
        {
            data, instance, keys, autoApprove, parametersFile, postgres,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var directory = parse.GetValue(data)!;
            var instanceCode = parse.GetValue(instance)!;

            // Read and checked before anything is written: a bad file leaves no half-made registry.
            var parameters = parse.GetValue(parametersFile) is { } parametersPath ? ParametersFile.Read(parametersPath) : new ConfigurationParameters();
            var keysDirectory = Path.Combine(directory, RegistryKeys.Folder);
            if (File.Exists(Path.Combine(directory, RegistryDatabase.FileName)))
            {
                throw new CliException(RegistryErrors.AlreadyInitialised, $"{directory} already holds a registry.");
            }

            // A PostgreSQL database is reached, and its schema made, before any file is written:
            // a wrong connection string leaves no half-made registry.
            var postgresConnection = PostgresOf(parse, postgres);
            using var postgresDatabase = string.IsNullOrEmpty(postgresConnection) ? null : RegistryDatabase.Open(directory, postgresConnection);
            if (postgresDatabase is not null && RegistryStore.IsInitialised(postgresDatabase))
            {
                throw new CliException(RegistryErrors.AlreadyInitialised, $"{postgresDatabase.Location} already holds a registry.");
            }

            PemFiles.EnsurePrivateDirectory(directory);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(keys) is { } source)
            {
                PemFiles.EnsurePrivateDirectory(keysDirectory);
                foreach (var file in DevelopmentPki.AllFiles)
                {
                    File.Copy(Path.Combine(source, file), Path.Combine(keysDirectory, file));
                }
            }
            else
            {
                new DevelopmentPki(timeProvider).Create(new DevelopmentPkiOptions { OutputDirectory = keysDirectory, Instance = instanceCode });
                output.WriteLine("Created a DEVELOPMENT key set (not for production) in " + keysDirectory);
            }

            using var registryKeys = RegistryKeys.Load(keysDirectory, timeProvider);
            using var sqliteDatabase = postgresDatabase is null ? RegistryDatabase.Open(directory) : null;
            var database = postgresDatabase ?? sqliteDatabase!;
            RegistryStore.Initialise(database, registryKeys, timeProvider, instanceCode, parameters);
            RegistryConsoleCertificate.EnsureCreated(directory, instanceCode, timeProvider);
            if (parse.GetValue(autoApprove))
            {
                new RegistryStore(database, registryKeys, timeProvider).SetAutoApprove("registry", true);
            }

            output.WriteLine($"Registry for instance {instanceCode} initialised in {Path.GetFullPath(directory)}; it publishes its first configuration when served.");
            output.WriteLine(postgresDatabase is null
                ? $"Start it with: xbus registry serve --data {directory}"
                : $"Start it with: xbus registry serve --data {directory} --postgres \"…\" (the same connection string)");
        }));
        return command;
    }

    private static Command CreateAnchorExport(TimeProvider timeProvider)
    {
        var data = new Option<string>("--data") { Description = "The registry's data folder.", DefaultValueFactory = _ => RegistryConnection.DefaultDataDirectory };
        var output = new Option<string>("--out") { Description = "Where to write the anchor (JSON).", Required = true };
        var address = new Option<string?>("--registry-address") { Description = "The gRPC address nodes use, https://host:port (default: where the registry serves now)." };
        var force = new Option<bool>("--force") { Description = "Replace an existing file." };
        var postgres = PostgresOption();
        var command = new Command("export", "Write the anchor: instance, registry address, configuration-signing certificate, TLS root, the registry's own TLS certificate (pinned).") { data, output, address, force, postgres };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var directory = parse.GetValue(data)!;
            using var keys = RegistryKeys.Load(Path.Combine(directory, RegistryKeys.Folder), timeProvider);
            using var database = RegistryDatabase.OpenInitialised(directory, PostgresOf(parse, postgres));
            var store = new RegistryStore(database, keys, timeProvider);
            var registryAddress = parse.GetValue(address) ?? RegistryConnection.ReadEndpoints(directory).Grpc;

            // Several instances on one database: the anchor names them all, this one first. One
            // registry: its anchor as before, whatever --registry-address calls it.
            var recorded = store.RegistryAddresses();
            var others = recorded.Count > 1 ? recorded.Select(a => a.Grpc).Where(a => !string.Equals(a, registryAddress, StringComparison.Ordinal)) : [];
            var anchor = ConfigurationAnchor.Create(store.Instance, registryAddress, [keys.ConfigurationSigning], [keys.RootCertificate], timeProvider.GetUtcNow(), [keys.Tls], others);
            var path = parse.GetValue(output)!;
            anchor.Write(path, parse.GetValue(force));
            var text = parse.InvocationConfiguration.Output;
            text.WriteLine($"anchor for instance {anchor.Instance} written to {path}");
            text.WriteLine($"registry {string.Join(' ', anchor.RegistryAddresses)}");
            text.WriteLine($"fingerprint {anchor.FingerprintForReading}  (read it to the node's operator out of band)");
        }));
        return command;
    }

    private static Command CreateServe()
    {
        // No defaults here: RegistryServerOptions holds them, and only a flag given wins over the file and the environment.
        var data = new Option<string>("--data") { Description = $"The registry's data folder [default: {RegistryConnection.DefaultDataDirectory}]." };
        var listen = new Option<string>("--listen") { Description = "gRPC (TLS) listener, ip:port; port 0 picks one [default: 127.0.0.1:4400]." };
        var httpListen = new Option<string>("--http-listen") { Description = "HTTP listener for /tsa and /ocsp, ip:port [default: 127.0.0.1:4401]." };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Write logs as JSON lines." };
        var postgres = PostgresOption();
        var config = ServeConfiguration.FileOption("registry");
        var command = new Command("serve", "Run the registry until stopped (Ctrl+C or SIGTERM).") { data, listen, httpListen, jsonLogs, postgres, config };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            using var configuration = ServeConfiguration.Build(parse.GetValue(config), ServeConfiguration.GivenFlags(parse,
                [(data, "Data"), (listen, "Listen"), (httpListen, "HttpListen"), (postgres, "Postgres"), (jsonLogs, ServeConfiguration.JsonLogs)]));
            var options = ServeConfiguration.Bind(
                configuration, new RegistryServerOptions { DataDirectory = RegistryConnection.DefaultDataDirectory }, new RegistryServerOptionsValidator());
            using var logger = Logging.Create(ServeConfiguration.JsonLogsOf(configuration));
            await using var server = await RegistryServer.StartAsync(options, builder => builder.AddSerilog(logger)).ConfigureAwait(false);
            parse.InvocationConfiguration.Output.WriteLine($"registry serving: grpc {server.GrpcAddress}  http {server.HttpAddress}{(server.ConsoleAddress is { } console ? "  console " + console : string.Empty)}");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: in-flight calls finish while the server stops.
            }
        }));
        return command;
    }

    /// <summary>The one setting that puts the registry's tables in PostgreSQL (RegistryServerOptions.Postgres).</summary>
    private static Option<string?> PostgresOption() => new("--postgres")
    {
        Description = "Keep the registry's tables in this PostgreSQL database (\"Host=…;Database=…;Username=…\") instead of registry.db; the keys stay in --data. "
            + "Default: XBUS_POSTGRES, where a string with a password belongs rather than on a command line.",
    };

    /// <summary>
    /// --postgres, or else XBUS_POSTGRES as `serve` reads it: a connection string holding a
    /// password stays off the command line, where every user of the machine can read it.
    /// </summary>
    private static string? PostgresOf(ParseResult parse, Option<string?> option) =>
        parse.GetValue(option) is { Length: > 0 } given ? given : Environment.GetEnvironmentVariable(ServeConfiguration.EnvironmentPrefix + "POSTGRES");

    // ---- building management commands ---------------------------------------------------------

    private sealed record OptionSpec(string Name, string Description, bool Required, bool IsFlag);

    private static string Arg(string name) => name;

    private static OptionSpec Opt(string name, string description, bool required = false) => new(name, description, required, false);

    private static OptionSpec Flag(string name, string description) => new(name, description, false, true);

    private static Command Group(string name, string description, params Command[] commands)
    {
        var group = new Command(name, description);
        foreach (var command in commands)
        {
            group.Subcommands.Add(command);
        }

        return group;
    }

    /// <summary>One management call: arguments and options in, one request out, the answer printed (or JSON).</summary>
    private static Command Management<TRequest, TResponse>(
        string name,
        string description,
        Func<RegistryManagement.RegistryManagementClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> method,
        string[] arguments,
        OptionSpec[] options,
        Func<string[], string?[], TRequest> build,
        Action<TextWriter, TResponse> print,
        Func<TResponse, string?>? problem = null)
        where TResponse : IMessage
    {
        var command = new Command(name, description);
        var args = arguments.Select(a => new Argument<string>(a)).ToArray();
        foreach (var argument in args)
        {
            command.Arguments.Add(argument);
        }

        var opts = options.Select(o => o.IsFlag
            ? (Option)new Option<bool>(o.Name) { Description = o.Description }
            : new Option<string?>(o.Name) { Description = o.Description, Required = o.Required }).ToArray();
        foreach (var option in opts)
        {
            command.Options.Add(option);
        }

        RegistryConnection.AddOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? found = null;
            var exit = await CommandRunner.RunAsync(parse, cancellationToken, async () =>
            {
                var values = args.Select(a => parse.GetValue(a)!).ToArray();
                var optionValues = opts.Select(o => o is Option<bool> flag
                    ? (parse.GetValue(flag) ? "true" : null)
                    : parse.GetValue((Option<string?>)o)).ToArray();
                using var channel = RegistryConnection.Open(parse);
                var response = await method(new RegistryManagement.RegistryManagementClient(channel), build(values, optionValues), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(RegistryConnection.JsonOption))
                {
                    output.WriteLine(Json.Format(response));
                }
                else
                {
                    print(output, response);
                }

                found = problem?.Invoke(response);
            }).ConfigureAwait(false);

            // A check that ran and found a problem (a broken chain) is not a failure to run: a
            // script tells the two apart by the exit code, as with `xbus audit verify`.
            if (found is not null)
            {
                parse.InvocationConfiguration.Error.WriteLine(found);
                return AuditVerifyCommands.ProblemFoundExitCode;
            }

            return exit;
        });
        return command;
    }

    private static void PrintChange(TextWriter output, ChangeResult result) =>
        output.WriteLine($"done: audit entry {result.AuditSequence}, global configuration version {result.ConfigurationVersion}");

    private static void PrintRegistration(TextWriter output, RegistrationStatus status)
    {
        output.WriteLine($"registration {status.RegistrationId}: {status.State}{(status.Reason.Length > 0 ? " (" + status.Reason + ")" : string.Empty)}"
            + (status.ConfigurationVersion > 0 ? $", listed from configuration version {status.ConfigurationVersion}" : string.Empty));
        if (status.ReplacesNode.Length > 0)
        {
            output.WriteLine($"replaces node {status.ReplacesNode}; revoked as superseded: {(status.RevokedCertificateSerials.Count > 0 ? string.Join(", ", status.RevokedCertificateSerials) : "none")}");
        }
    }
}
