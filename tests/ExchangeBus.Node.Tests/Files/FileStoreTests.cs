// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Node.Files;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// The store's sweeps walk <c>objects/</c> and <c>incoming/</c> while calls remove and rename files
/// in them: a file listed by the walk can be gone when the walk looks at it. Here it is removed
/// between the listing and the look on purpose.
/// </summary>
public sealed class FileStoreTests
{
    private string _root = null!;

    [SetUp]
    public void SetUp() => _root = Directory.CreateTempSubdirectory("xbus-store-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_root, recursive: true);

    [Test]
    public void ContentWrittenBefore_ObjectRemovedAfterTheListing_NotReported()
    {
        var store = new FileStore(_root);
        var old = DateTime.UtcNow.AddDays(-8);
        byte[][] objects = [Object(store, old), Object(store, old)];

        using var walk = store.ContentWrittenBefore(DateTimeOffset.UtcNow.AddDays(-7)).GetEnumerator();
        Assert.That(walk.MoveNext(), Is.True, "both listed, the first looked at");
        var other = objects.Single(sha => !sha.SequenceEqual(walk.Current));

        // As a call letting go of content no file names removes it while the sweep walks.
        File.Delete(store.ObjectPath(other));

        Assert.That(walk.MoveNext(), Is.False, "content gone since the listing is not reported (it was, dated 1601, as stale)");
    }

    [Test]
    public void DeleteStaleParts_PartRenamedAwayBeforeItsClaim_NotCounted()
    {
        var store = new FileStore(_root);
        var part = Path.Combine(store.Incoming, "finished.part");
        File.WriteAllBytes(part, [1, 2, 3]);
        File.SetLastWriteTimeUtc(part, DateTime.UtcNow.AddDays(-8));

        // The push finishes between the sweep's listing and its claim: its part goes into objects/.
        var deleted = store.DeleteStaleParts(DateTimeOffset.UtcNow.AddDays(-7), claim: listed =>
        {
            File.Move(listed, store.ObjectPath(SHA256.HashData([1, 2, 3])));
            return true;
        }, release: _ => { });

        Assert.That(deleted, Is.Zero);
        Assert.That(store.Has(SHA256.HashData([1, 2, 3])), Is.True);
    }

    private static byte[] Object(FileStore store, DateTime written)
    {
        var content = RandomNumberGenerator.GetBytes(1_000);
        var sha = SHA256.HashData(content);
        File.WriteAllBytes(store.ObjectPath(sha), content);
        File.SetLastWriteTimeUtc(store.ObjectPath(sha), written);
        return sha;
    }
}
