// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Contracts.Node.V1;
using Google.Protobuf;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.WebConsole;
using static ExchangeBus.Node.Tests.Files.FileSyncSupport;

namespace ExchangeBus.Node.Tests.Files;

/// <summary>
/// An operator's retry of a failed delivery (<see cref="DeliveryRetry"/>, through the local API's
/// <c>Files.Retry</c> as <c>xbus files retry</c> calls it): a delivery failed for real against a
/// recipient node that is down, retried once the node is back, delivered; and the message log
/// keeps the failure, then the retry with who asked, then the delivery.
/// </summary>
[NonParallelizable]
public sealed class DeliveryRetryTests
{
    [Test]
    public async Task FailedWhileTheRecipientWasDown_RetriedOnceItIsBack_Delivered_AndTheLogKeepsTheFailureThenTheRetry()
    {
        var options = new FileSyncOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(200), MaxAttempts = 2 };
        await using var bus = await BusFixture.StartAsync(files: options);
        await bus.StopProviderNodeAsync(0);
        using var local = bus.LocalChannel();
        var content = RandomContent(5000);
        await SendAsync(local, Metadata("retry-1", content), content);
        var failed = await SettledAsync(local, "retry-1");
        Assert.That((failed.State, failed.Reason, failed.Attempts), Is.EqualTo((DeliveryState.Failed, FileErrors.AttemptsExhausted, 2u)));

        // Not failed, not there, not named: refused, and nothing changes.
        await AssertRefused(() => RetryAsync(local, "no-such-file"), FileErrors.NotFound);
        await AssertRefused(() => RetryAsync(local, "retry-1", recipient: BusFixture.ClientSubsystem), FileErrors.NotFound);
        await AssertRefused(() => RetryAsync(local, "retry-1", requestedBy: " "), FileErrors.BadMetadata);
        await AssertRefused(() => RetryAsync(local, "retry-1", requestedBy: "console:admin"), FileErrors.BadMetadata);

        await using var provider = await BusFixture.StartNodeAsync(bus.ProviderData[0], files: options);

        // The client node's channel to the provider's node retries its connection with a back-off
        // of its own; an exchange that gets through shows the node is reachable again, so the
        // retry's two attempts are not spent while the channel still waits to reconnect.
        await WaitUntilAsync(async () =>
        {
            try
            {
                await new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
                {
                    Service = BusFixture.Service, Client = BusFixture.ClientSubsystem, Payload = ByteString.CopyFromUtf8("ping"),
                }).ResponseAsync;
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        });

        var retried = await RetryAsync(local, "retry-1");
        Assert.That((retried.Delivery.State, retried.Delivery.Attempts, retried.Delivery.Reason), Is.EqualTo((DeliveryState.Accepted, 0u, string.Empty)), "a fresh attempt budget");

        var delivered = await SettledAsync(local, "retry-1");
        Assert.That(delivered.State, Is.EqualTo(DeliveryState.Delivered));
        Assert.That(delivered.Receipt, Is.Not.Null);
        Assert.That(provider.Files.Database.GetReceived(BusFixture.ProviderSubsystem, BusFixture.ClientSubsystem, "retry-1")?.State, Is.EqualTo(DeliveryState.Delivered));
        await AssertRefused(() => RetryAsync(local, "retry-1"), FileErrors.NotRetryable);

        // The records reach the message log just after each state commits (file-sync.md, "Log outbox").
        MessageLogRecord[] States() => [.. bus.ClientNode.Log.FindByMessageId("retry-1").Select(e => e.Record).Where(r => r.Direction == MessageDirection.FileState)];
        await WaitUntilAsync(() => Task.FromResult(States().Any(r => r.Status == "delivered")));
        Assert.That(States().Select(r => r.Status), Is.EqualTo(new[]
        {
            "sending", FileErrors.RecipientUnreachable, FileErrors.AttemptsExhausted, FileRecords.RetryStatus, "sending", "delivered",
        }));
        Assert.That(States().Single(r => r.Status == FileRecords.RetryStatus).UserId, Is.EqualTo("cli:tester"), "who asked");
        Assert.That(bus.ClientNode.Log.FindByMessageId("retry-1").Count(e => e.Record.Direction == MessageDirection.FileReceiptReceived), Is.EqualTo(1));
    }

    internal static async Task<RetryResponse> RetryAsync(GrpcChannel local, string fileId, string recipient = BusFixture.ProviderSubsystem, string requestedBy = "cli:tester") =>
        await new FilesClient(local).RetryAsync(new RetryRequest { Client = BusFixture.ClientSubsystem, FileId = fileId, Recipient = recipient, RequestedBy = requestedBy }).ResponseAsync;
}

/// <summary>
/// Retries of deliveries the recipient refused (its access list does not name the sender): which
/// refusals an operator may retry, and a retry of content housekeeping has removed.
/// </summary>
[NonParallelizable]
public sealed class DeliveryRetryRefusalTests
{
    private BusFixture _bus = null!;
    private GrpcChannel _local = null!;

    [OneTimeSetUp]
    public async Task SetUp()
    {
        _bus = await BusFixture.StartAsync(allow: false, files: new FileSyncOptions { KeepContent = TimeSpan.FromDays(1) });
        _local = _bus.LocalChannel();
    }

    [OneTimeTearDown]
    public async Task TearDown()
    {
        _local.Dispose();
        await _bus.DisposeAsync();
    }

    [Test]
    public async Task AccessDenied_MayBeRetried_AndFailsAgainWhileTheRecipientStillRefuses()
    {
        await SendDeniedAsync("denied-retry", RandomContent(4000));

        var retried = await DeliveryRetryTests.RetryAsync(_local, "denied-retry", requestedBy: "cli:operator");
        Assert.That(retried.Delivery.State, Is.EqualTo(DeliveryState.Accepted));
        var again = await SettledAsync(_local, "denied-retry");
        Assert.That((again.State, again.Reason, again.Attempts), Is.EqualTo((DeliveryState.Failed, NodeErrors.AccessDenied, 1u)));

        string[] States() => [.. _bus.ClientNode.Log.FindByMessageId("denied-retry").Where(e => e.Record.Direction == MessageDirection.FileState).Select(e => e.Record.Status)];
        await WaitUntilAsync(() => Task.FromResult(States().Count(s => s == NodeErrors.AccessDenied) == 2));
        Assert.That(States(), Is.EqualTo(new[] { "sending", NodeErrors.AccessDenied, FileRecords.RetryStatus, "sending", NodeErrors.AccessDenied }));
    }

    [Test]
    public async Task RefusalOfTheSignedManifestItself_IsFinal()
    {
        await SendDeniedAsync("conflict-retry", RandomContent(4000));

        // A recipient's Files.FileIdConflict is hard to provoke from an honest sender: the row's
        // reason is rewritten (no records) to stand for one.
        var entry = _bus.ClientNode.Files.Database.Outbox(BusFixture.ClientSubsystem, "conflict-retry").Single();
        await _bus.ClientNode.Files.Database.UpdateOutboxAsync(entry with { Reason = FileErrors.FileIdConflict }, []);

        await AssertRefused(() => DeliveryRetryTests.RetryAsync(_local, "conflict-retry"), FileErrors.FinalRefusal);
        Assert.That(_bus.ClientNode.Files.Database.Outbox(BusFixture.ClientSubsystem, "conflict-retry").Single().State, Is.EqualTo(DeliveryState.Failed));
    }

    [Test]
    public async Task ContentRemovedAfterTheRetention_CannotBeRetried()
    {
        var content = RandomContent(4500);
        await SendDeniedAsync("gone-retry", content);
        var files = _bus.ClientNode.Files;
        Assert.That(files.RemoveFinishedContent(DateTimeOffset.UtcNow.AddDays(2)), Is.GreaterThanOrEqualTo(1));
        Assert.That(files.Store.Has(SHA256.HashData(content)), Is.False);

        await AssertRefused(() => DeliveryRetryTests.RetryAsync(_local, "gone-retry"), FileErrors.ContentGone);
        Assert.That(files.Database.Outbox(BusFixture.ClientSubsystem, "gone-retry").Single().State, Is.EqualTo(DeliveryState.Failed));
        Assert.That(_bus.ClientNode.Log.FindByMessageId("gone-retry").Any(e => e.Record.Status == FileRecords.RetryStatus), Is.False, "a refused retry logs no retry");
    }

    [Test]
    public async Task TheCommandLine_Retries_AndRecordsEachRequestInTheAdminAuditLog()
    {
        await SendDeniedAsync("cli-retry", RandomContent(3000));
        string[] Retry(string fileId) => ["files", "retry", "--node", _bus.ClientNode.LocalAddress, "--data", _bus.ClientData.Paths.DataDirectory,
            "--client", BusFixture.ClientSubsystem, "--file-id", fileId, "--to", BusFixture.ProviderSubsystem];

        var done = await XbusProcess.RunAsync(Retry("cli-retry"));
        var refused = await XbusProcess.RunAsync(Retry("cli-no-such-file"));

        Assert.That(done.Exit, Is.Zero, done.ToString());
        Assert.That(done.Output, Does.Contain($"retrying file cli-retry for {BusFixture.ProviderSubsystem}"));
        Assert.That(refused.Exit, Is.EqualTo(2), refused.ToString());
        Assert.That(refused.Error, Does.Contain("error " + FileErrors.NotFound));
        var actor = "cli:" + Environment.UserName;
        Assert.That(_bus.ClientNode.Log.FindByMessageId("cli-retry").Select(e => e.Record).Single(r => r.Status == FileRecords.RetryStatus).UserId, Is.EqualTo(actor));
        var entries = NodeAdminDatabase.Open(_bus.ClientData.Paths).Accounts(TimeProvider.System).Query(0, 1000, actor: actor, action: DeliveryRetry.AuditAction);
        Assert.That(entries.Select(e => (e.Accepted, e.ErrorCode)), Is.EqualTo(new[] { (true, string.Empty), (false, FileErrors.NotFound) }));
    }

    private async Task SendDeniedAsync(string fileId, byte[] content)
    {
        await SendAsync(_local, Metadata(fileId, content, dossier: fileId), content);
        var state = await SettledAsync(_local, fileId);
        Assert.That((state.State, state.Reason), Is.EqualTo((DeliveryState.Failed, NodeErrors.AccessDenied)));
    }
}
