// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Tests.Shared;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>The tests' look into a node's folders (<see cref="LiveFolder"/>), with a file removed between the listing and the look.</summary>
public sealed class LiveFolderTests
{
    [Test]
    public void Lengths_FileGoneAfterTheListing_PassedBy()
    {
        var folder = Directory.CreateTempSubdirectory("xbus-live-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "a.part"), new byte[10]);
            File.WriteAllBytes(Path.Combine(folder, "b.part"), new byte[20]);

            using var lengths = LiveFolder.Lengths(folder, "*.part").GetEnumerator();
            Assert.That(lengths.MoveNext(), Is.True, "both listed, the first looked at");

            // As the node renames a complete part into objects/.
            File.Delete(Path.Combine(folder, lengths.Current == 10 ? "b.part" : "a.part"));

            Assert.That(lengths.MoveNext(), Is.False, "passed by (new FileInfo(path).Length threw FileNotFoundException)");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Lengths_NoFolder_None() =>
        Assert.That(LiveFolder.Lengths(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"))), Is.Empty);
}
