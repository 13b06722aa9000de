// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Pki;

var root = new RootCommand("xbus: the ExchangeBus command line.");
root.Subcommands.Add(PkiCommands.Create(TimeProvider.System));
return await root.Parse(args).InvokeAsync();
