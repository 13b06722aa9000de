// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using ExchangeBus.Contracts.Node.V1;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Tests.Exchange;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Cli;

/// <summary>
/// <c>xbus node serve --json-logs</c> (docs/deploy.md, "Logs"): standard error is one JSON object
/// a line, what a log shipper reads, and a refused call's log line names its error code and
/// correlation id but never the payload or the person it was about.
/// </summary>
[NonParallelizable]
public sealed class JsonLogsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Test]
    public async Task NodeServe_JsonLogs_EveryLogLineIsAJsonObject_WithoutPayloadsOrPersonalData()
    {
        var bus = await BusFixture.PrepareAsync();
        try
        {
            string transcript;
            await using (var node = NodeProcess.Start(bus.ProviderData[0], "--json-logs"))
            {
                await node.WaitUntilReadyAsync(Patience);
                using (var channel = BusChannel.Create(new Uri(node.LocalAddress), new BusChannelOptions()))
                {
                    var refused = await Assert.ThrowsAsync<RpcException>(() => new LocalGateway.LocalGatewayClient(channel).CallAsync(new CallRequest
                    {
                        Service = "not a service",
                        Client = BusFixture.ClientSubsystem,
                        UserId = "official-7",
                        SubjectId = "citizen-001",
                        Payload = ByteString.CopyFromUtf8("private-payload"),
                    }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync);
                    Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
                }

                Assert.That(await node.TerminateAsync(Patience), Is.Zero, node.Output);
                transcript = await File.ReadAllTextAsync(node.TranscriptPath);
            }

            // Standard output has the command's own lines ("node … serving", the certificate to pin); the rest is logs.
            var logLines = transcript.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(line => !line.StartsWith("node ", StringComparison.Ordinal) && !line.StartsWith("local TLS certificate", StringComparison.Ordinal))
                .ToList();
            Assert.That(logLines, Is.Not.Empty);
            var events = logLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
            Assert.That(events.Select(e => e.ValueKind), Has.All.EqualTo(JsonValueKind.Object));
            Assert.That(events.Select(e => e.TryGetProperty("@t", out _) && e.TryGetProperty("@m", out _)), Has.All.True, "every event has a time and a rendered message");

            var failed = events.Where(e => e.TryGetProperty("EventId", out var id) && id.GetProperty("Id").GetInt32() == 4300).ToList();
            Assert.That(failed, Has.Count.EqualTo(1), transcript);
            Assert.That(failed[0].GetProperty("Code").GetString(), Is.EqualTo(NodeErrors.InvalidIdentifier));
            Assert.That(failed[0].GetProperty("CorrelationId").GetString(), Is.Not.Empty);
            Assert.That(transcript, Does.Not.Contain("citizen-001").And.Not.Contain("private-payload").And.Not.Contain("official-7"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            await bus.DisposeAsync();
        }
    }
}
