// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Bench;

/// <summary>What a <see cref="ChildProcess"/> runs.</summary>
internal enum ChildProgram
{
    /// <summary>The <c>xbus</c> command line, as operators run it (<c>node serve</c>).</summary>
    Xbus,

    /// <summary>This tool (<c>forwarder</c>, <c>file-sink</c>): the baselines' hops, which xbus does not ship.</summary>
    Bench,
}
