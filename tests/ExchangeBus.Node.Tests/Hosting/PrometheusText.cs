// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text.RegularExpressions;

namespace ExchangeBus.Node.Tests.Hosting;

/// <summary>
/// Reads a Prometheus text exposition (version 0.0.4) the way a scraper does: every sample line
/// must parse, and each sample's family must have a <c># TYPE</c> line. What the tests check is
/// then the samples, not the exporter's spacing or label order.
/// </summary>
internal sealed partial class PrometheusText
{
    private readonly List<Sample> _samples = [];
    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);

    private PrometheusText()
    {
    }

    public IReadOnlyList<Sample> Samples => _samples;

    /// <summary>Metric family name to its type (counter, gauge, histogram ...).</summary>
    public IReadOnlyDictionary<string, string> Types => _types;

    public static PrometheusText Parse(string text)
    {
        var parsed = new PrometheusText();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || (line.StartsWith('#') && !line.StartsWith("# TYPE ", StringComparison.Ordinal)))
            {
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.That(parts, Has.Length.EqualTo(4), $"TYPE line: {line}");
                parsed._types[parts[2]] = parts[3];
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.That(match.Success, Is.True, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in Label().Matches(match.Groups["labels"].Value))
            {
                labels.Add(label.Groups[1].Value, Regex.Unescape(label.Groups[2].Value));
            }

            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            parsed._samples.Add(new Sample(match.Groups["name"].Value, labels, value));
        }

        foreach (var sample in parsed._samples)
        {
            Assert.That(parsed.FamilyOf(sample.Name), Is.Not.Null, $"{sample.Name} has no # TYPE line");
        }

        return parsed;
    }

    /// <summary>The samples named <paramref name="name"/> whose labels include every one given.</summary>
    public IEnumerable<Sample> Find(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value));

    /// <summary>The one sample named <paramref name="name"/> with those labels; fails when there is none or several.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        var found = Find(name, labels).ToList();
        Assert.That(found, Has.Count.EqualTo(1), $"{name} {string.Join(",", labels)}");
        return found[0].Value;
    }

    private string? FamilyOf(string sampleName)
    {
        if (_types.ContainsKey(sampleName))
        {
            return sampleName;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count", "_total" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && _types.ContainsKey(sampleName[..^suffix.Length]))
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( -?\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?""")]
    private static partial Regex Label();
}
