// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Bench;

// The benchmarks behind `./xbus bench …`, kept out of the xbus that ships. Its children are xbus
// itself (the nodes) and this program (the baselines' forwarders and file sink).
return await BenchCommand.Create().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(3) });
