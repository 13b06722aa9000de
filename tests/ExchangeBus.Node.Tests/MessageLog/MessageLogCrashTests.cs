// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Tests.MessageLog;

/// <summary>
/// What <c>kill -9</c> leaves behind is the files as they are at that instant. These tests take
/// such a copy while appenders are still running and the writer is mid-stream (never closing
/// the log), open the copy as a restarted node would, and check that every record acknowledged
/// before the copy is there and the chain verifies. A test that kills a real node process comes
/// with the node's serve command.
/// </summary>
public sealed class MessageLogCrashTests
{
    private TempLogFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempLogFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public async Task CopyTakenMidWrite_HasEveryAcknowledgedRecord_AndVerifies()
    {
        // Without automatic checkpoints the main file never changes and the write-ahead log only
        // grows, so a plain copy is exactly what a crash leaves, including a transaction
        // half-written at the end of the log (which SQLite's recovery discards).
        var options = new MessageLogOptions { WalAutoCheckpointPages = 0 };
        await RunCrashScenario(options, copy: (source, target) =>
        {
            File.Copy(source, target);
            File.Copy(source + "-wal", target + "-wal");
            File.Copy(source + "-shm", target + "-shm");
        });
    }

    [Test]
    public async Task CopyTakenBetweenCommits_WhileCheckpointsRun_HasEveryAcknowledgedRecord_AndVerifies()
    {
        // With checkpoints moving pages into the main file, files copied one after another could
        // come from different moments; holding SQLite's write lock while copying makes the copy
        // one instant (between two commits) without stopping the writer or its appenders.
        var options = new MessageLogOptions { WalAutoCheckpointPages = 8 };
        await RunCrashScenario(options, copy: (source, target) =>
        {
            using (SqliteMessageLogTests.WriteLock(source))
            {
                Assert.That(new FileInfo(source).Length, Is.GreaterThan(64 * 1024), "checkpoints have moved pages into the main file");
                File.Copy(source, target);
                File.Copy(source + "-wal", target + "-wal");
                File.Copy(source + "-shm", target + "-shm");
            }
        });
    }

    private async Task RunCrashScenario(MessageLogOptions options, Action<string, string> copy)
    {
        var acknowledged = new ConcurrentDictionary<long, string>();
        var crashCopy = _folder.PathOf("crashed.db");
        long lastBeforeCopy;
        long lastOfOriginal;
        using var stop = new CancellationTokenSource();
        await using (var log = Records.Open(_folder.LogPath, options: options))
        {
            var appenders = Enumerable.Range(0, 8).Select(a => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var id = $"msg-{a}-{i}";
                    acknowledged[await log.AppendAsync(Records.Make(id, bodyBytes: 512))] = id;
                }
            })).ToArray();

            await SqliteMessageLogTests.WaitUntil(() => acknowledged.Count >= 600);
            var ackedBeforeCopy = new Dictionary<long, string>(acknowledged);
            copy(_folder.LogPath, crashCopy);
            var countAtCopy = acknowledged.Count;

            // The original carries on after the "crash" moment, to show the copy was mid-stream.
            await SqliteMessageLogTests.WaitUntil(() => acknowledged.Count >= countAtCopy + 300);
            await stop.CancelAsync();
            await Task.WhenAll(appenders);
            lastOfOriginal = log.LastSequence();

            await using var restarted = Records.Open(crashCopy);
            var verification = restarted.Verify();
            lastBeforeCopy = restarted.LastSequence();
            using (Assert.EnterMultipleScope())
            {
                Assert.That(verification.IsValid, Is.True, verification.Detail);
                Assert.That(verification.RecordsChecked, Is.EqualTo(lastBeforeCopy));
                Assert.That(lastBeforeCopy, Is.GreaterThanOrEqualTo(ackedBeforeCopy.Keys.Max()));
            }

            foreach (var (sequence, id) in ackedBeforeCopy)
            {
                Assert.That(restarted.Get(sequence)?.Record.MessageId, Is.EqualTo(id), $"acknowledged record {sequence} survived");
            }

            // The restarted log chains on from the last record that made it.
            var next = await restarted.AppendAsync(Records.Make("msg-after-restart"));
            Assert.That(next, Is.EqualTo(lastBeforeCopy + 1));
            Assert.That(restarted.Verify().IsValid, Is.True);
        }

        Assert.That(lastOfOriginal, Is.GreaterThan(lastBeforeCopy), "the copy was taken while appends were still going on");
    }
}
