// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Audit;
using ExchangeBus.Cli.Demo;
using ExchangeBus.Cli.Files;
using ExchangeBus.Cli.Node;
using ExchangeBus.Cli.Pki;
using ExchangeBus.Cli.Registry;

var root = new RootCommand("xbus: the ExchangeBus command line.");
root.Subcommands.Add(PkiCommands.Create(TimeProvider.System));
root.Subcommands.Add(RegistryCommands.Create(TimeProvider.System));
root.Subcommands.Add(NodeCommands.Create(TimeProvider.System));
root.Subcommands.Add(NodeCommands.CreateCall());
root.Subcommands.Add(FilesCommands.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(SampleBackendCommand.Create());
root.Subcommands.Add(AuditCommands.Create());
// SIGTERM or Ctrl+C cancels the running command; the serve commands then stop taking calls,
// let those in flight finish (up to their shutdown timeout, 30 s by default, per listener) and
// flush the message log. System.CommandLine's default would end the process 2 s after the
// signal, cutting that short; this bound only stops a shutdown that hangs.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(3) });
