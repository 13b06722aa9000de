// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;

namespace ExchangeBus.Bench;

/// <summary>
/// <c>xbus bench …</c>: end-to-end benchmarks on loopback, run from source so anyone can repeat
/// them. The <c>./xbus</c> script runs this tool for <c>bench</c>, with the arguments after it.
/// </summary>
internal static class BenchCommand
{
    public static RootCommand Create()
    {
        var bench = new RootCommand("xbus bench: measure the bus on this machine (loopback only).");
        bench.Subcommands.Add(ExchangeBenchmark.Create());
        bench.Subcommands.Add(Forwarder.Create());
        bench.Subcommands.Add(FileBenchmark.Create());
        bench.Subcommands.Add(FileSink.Create());
        return bench;
    }
}
