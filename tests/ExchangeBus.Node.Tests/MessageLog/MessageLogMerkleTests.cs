// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Merkle;
using ExchangeBus.Node.MessageLog;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.MessageLog;

/// <summary>The Merkle tree the writer keeps beside the records, in the same SQLite transactions.</summary>
public sealed class MessageLogMerkleTests
{
    private TempLogFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task Roots_AndProofs_ForEverySize_MatchATreeBuiltFromTheRecordHashes()
    {
        await using (var log = Records.Open(_folder.LogPath))
        {
            // Concurrent appenders: batches of many sizes, so nodes complete across batch boundaries.
            await Task.WhenAll(Enumerable.Range(0, 4).Select(a => Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await log.AppendAsync(Records.Make($"m{a}-{i}", bodyBytes: 16));
                }
            })));
        }

        using var reader = MessageLogReader.Open(_folder.LogPath);
        var hashes = reader.ReadRange(1, 40, 1000).Entries.Select(e => e.Hash).ToArray();
        var reference = new InMemoryMerkleNodeStore();
        var builder = new MerkleTreeBuilder();
        for (var size = 1; size <= 40; size++)
        {
            builder.Append(MerkleHash.HashLeaf(hashes[size - 1]), reference);
            var root = reader.TreeRoot(size);
            Assert.That(root, Is.EqualTo(builder.ComputeRoot()), $"root of size {size}");
            for (var sequence = 1; sequence <= size; sequence++)
            {
                var proof = reader.InclusionProof(sequence, size);
                Assert.That(MerkleVerifier.VerifyInclusion(sequence - 1, size, MerkleHash.HashLeaf(hashes[sequence - 1]), proof, root).IsValid, Is.True, $"record {sequence} in {size}");
            }

            var consistency = reader.ConsistencyProof(Math.Max(1, size / 2), size);
            Assert.That(MerkleVerifier.VerifyConsistency(Math.Max(1, size / 2), size, reader.TreeRoot(Math.Max(1, size / 2)), root, consistency).IsValid, Is.True);
        }
    }

    [Test]
    public async Task LogWithoutNodes_AsAfterTheSchemaMigration_HasThemRebuiltAtOpen_AndGoesOn()
    {
        byte[] rootOf20;
        await using (var log = Records.Open(_folder.LogPath))
        {
            for (var i = 0; i < 20; i++)
            {
                await log.AppendAsync(Records.Make($"m{i}", bodyBytes: 16));
            }

            rootOf20 = log.Reader.TreeRoot(20);
        }

        Records.Tamper(_folder.LogPath, "DELETE FROM merkle_nodes;");
        var logger = new CapturingLogger<SqliteMessageLog>();
        await using (var log = SqliteMessageLog.Open(_folder.LogPath, new MessageLogOptions(), new FakeTimeProvider(TestClock.Start), logger))
        {
            Assert.That(log.Reader.TreeRoot(20), Is.EqualTo(rootOf20));
            Assert.That(logger.Events.Select(e => e.Id.Id), Does.Contain(3010));
            await log.AppendAsync(Records.Make("after", bodyBytes: 16));
            var root = log.Reader.TreeRoot(21);
            var proof = log.Reader.ConsistencyProof(20, 21);
            Assert.That(MerkleVerifier.VerifyConsistency(20, 21, rootOf20, root, proof).IsValid, Is.True);
        }
    }

    [Test]
    public async Task RecordHashChangedOnDisk_NoLongerProvesAgainstTheEarlierRoot()
    {
        await using var log = Records.Open(_folder.LogPath);
        for (var i = 0; i < 8; i++)
        {
            await log.AppendAsync(Records.Make($"m{i}", bodyBytes: 16));
        }

        var root = log.Reader.TreeRoot(8);
        var original = log.Reader.Get(5)!.Hash;
        Records.Tamper(_folder.LogPath, "UPDATE records SET hash = zeroblob(32) WHERE seq = 5;");

        var proof = log.Reader.InclusionProof(5, 8);
        var leaf = MerkleHash.HashLeaf(log.Reader.Get(5)!.Hash);

        Assert.That(MerkleVerifier.VerifyInclusion(4, 8, leaf, proof, root).Code, Is.EqualTo(MerkleErrors.InclusionMismatch));
        Assert.That(MerkleVerifier.VerifyInclusion(4, 8, MerkleHash.HashLeaf(original), proof, root).IsValid, Is.True);
    }
}
