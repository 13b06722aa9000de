// SPDX-License-Identifier: Apache-2.0
using BenchmarkDotNet.Running;
using ExchangeBus.Benchmarks;

// `verify-cpu [runs]`: the log verification cases timed in wall and CPU time, for a machine
// shared with other work, where BenchmarkDotNet's wall-clock figures say more about the neighbours.
if (args is ["verify-cpu", ..])
{
    LogVerificationBenchmarks.MeasureCpu(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
