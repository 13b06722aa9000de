// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;

namespace ExchangeBus.Cli.Bench;

/// <summary><c>xbus bench …</c>: end-to-end benchmarks on loopback, run from the shipped tool so anyone can repeat them.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure the bus on this machine (loopback only).");
        bench.Subcommands.Add(ExchangeBenchmark.Create());
        bench.Subcommands.Add(Forwarder.Create());
        bench.Subcommands.Add(FileBenchmark.Create());
        bench.Subcommands.Add(FileSink.Create());
        return bench;
    }
}
