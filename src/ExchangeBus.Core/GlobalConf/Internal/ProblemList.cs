// SPDX-License-Identifier: Apache-2.0
using System.Globalization;

namespace ExchangeBus.Core.GlobalConf.Internal;

/// <summary>
/// Collects content problems. Every problem is counted, but only the first
/// <see cref="MaxDetailed"/> are kept in detail: a configuration with 100,000 bad entries must not
/// turn into a 100,000-line error that floods logs and status details.
/// </summary>
internal sealed class ProblemList(string code)
{
    public const int MaxDetailed = 1000;

    private readonly List<GlobalConfError> problems = [];
    private int dropped;

    public int Count => problems.Count + dropped;

    public void Add(string path, string message)
    {
        if (problems.Count < MaxDetailed)
        {
            problems.Add(new GlobalConfError(code, message, path));
        }
        else
        {
            dropped++;
        }
    }

    public IReadOnlyList<GlobalConfError> ToList()
    {
        if (dropped == 0)
        {
            return problems.ToArray();
        }

        return
        [
            .. problems,
            new GlobalConfError(
                code,
                string.Create(CultureInfo.InvariantCulture, $"... and {dropped} more problems not listed (the first {MaxDetailed} are)."),
                Path: null),
        ];
    }
}
