// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Node.V1;
using Grpc.Core;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// Issue 4's "1,000 concurrent calls in flight without errors", as a functional check: every
/// call answered, the backend reached once per call, and both message logs hold every exchange
/// in an intact chain. How fast is for <c>xbus bench exchange</c>, not for a test.
/// </summary>
[NonParallelizable]
public sealed class ConcurrencyTests
{
    private const int Calls = 1_000;

    [Test]
    public async Task ThousandConcurrentCalls_AllAnsweredAndAllLoggedOnBothNodes()
    {
        await using var bus = await BusFixture.StartAsync();
        using var local = bus.LocalChannel();
        var clientLogBefore = bus.ClientNode.Log.Count();
        var providerLogBefore = bus.ProviderNode.Log.Count();

        var responses = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => new LocalGateway.LocalGatewayClient(local).CallAsync(new CallRequest
        {
            Service = BusFixture.Service,
            Client = BusFixture.ClientSubsystem,
            UserId = "official-7",
            Payload = ByteString.CopyFromUtf8($"call-{i}"),
        }, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(2))).ResponseAsync));

        Assert.That(responses.Select(r => r.Payload.ToStringUtf8()),
            Is.EquivalentTo(Enumerable.Range(0, Calls).Select(i => $"echo:call-{i}:{BusFixture.ClientSubsystem}")));
        Assert.That(bus.BackendCalls, Is.EqualTo(Calls));
        Assert.That(responses.Select(r => r.MessageId).Distinct().Count(), Is.EqualTo(Calls));

        var clientLog = bus.ClientNode.Log;
        var providerLog = bus.ProviderNode.Log;
        Assert.That(clientLog.Count() - clientLogBefore, Is.EqualTo(2 * Calls));
        Assert.That(providerLog.Count() - providerLogBefore, Is.EqualTo(2 * Calls));
        foreach (var response in responses)
        {
            Assert.That(clientLog.FindByMessageId(response.MessageId).Select(e => (e.Record.Direction, e.Record.Status)),
                Is.EquivalentTo(new[] { (MessageDirection.ClientRequest, MessageLogRecord.StatusOk), (MessageDirection.ClientResponse, MessageLogRecord.StatusOk) }));
            Assert.That(providerLog.FindByMessageId(response.MessageId).Select(e => (e.Record.Direction, e.Record.Status)),
                Is.EquivalentTo(new[] { (MessageDirection.ProviderRequest, MessageLogRecord.StatusOk), (MessageDirection.ProviderResponse, MessageLogRecord.StatusOk) }));
        }

        Assert.That(clientLog.Verify().IsValid, Is.True);
        Assert.That(providerLog.Verify().IsValid, Is.True);
    }
}
