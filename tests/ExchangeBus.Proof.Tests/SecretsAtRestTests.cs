// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Proof.Tests.Infrastructure;
using Google.Protobuf;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 7, "Secrets at rest": every private key the registry and the nodes made is readable by
/// its owner only, so are the message logs; and nothing the processes wrote to their logs holds a
/// key, a payload, or the personal data a call carried (the official's and the citizen's ids).
/// </summary>
public sealed class SecretsAtRestTests
{
    // Distinctive values, so that finding them anywhere in a log is not a coincidence.
    private const string Citizen = "VN-CITIZEN-7741920385";
    private const string Official = "officer-secret-5521";
    private const string PayloadMarker = "licence-AB-99-0031-payload";

    private ProofBus _bus = null!;

    [SetUp]
    public async Task SetUp() => _bus = await ProofBus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    [Test]
    public async Task KeysAndLogsAreOwnerOnly_AndNoKeyPayloadOrPersonalDataReachesTheProcessLogs()
    {
        using (var local = BusChannel.Create(new Uri(_bus.ClientLocal), new BusChannelOptions()))
        {
            var reply = await new Contracts.Node.V1.LocalGateway.LocalGatewayClient(local).CallAsync(new Contracts.Node.V1.CallRequest
            {
                Service = ProofBus.Service,
                Client = ProofBus.Client,
                UserId = Official,
                SubjectId = Citizen,
                Payload = ByteString.CopyFromUtf8(PayloadMarker),
            }, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(1))).ResponseAsync;
            Assert.That(reply.Payload.ToStringUtf8(), Does.Contain(Citizen), "the backend saw the call");

            // A refused call too: refusals are logged, and must not carry the request either.
            var refused = await Assert.ThrowsAsync<RpcException>(() => new Contracts.Node.V1.LocalGateway.LocalGatewayClient(local).CallAsync(new Contracts.Node.V1.CallRequest
            {
                Service = ProofBus.Transport + "/driving-licence/noSuchService/v1",
                Client = ProofBus.Client,
                UserId = Official,
                SubjectId = Citizen,
                Payload = ByteString.CopyFromUtf8(PayloadMarker),
            }, new CallOptions(deadline: DateTime.UtcNow.AddMinutes(1))).ResponseAsync);
            Assert.That(refused!.ErrorCode, Is.EqualTo("Server.ServerProxy.UnknownService"));
        }

        // Stopped gracefully, so every line they would write is written.
        Assert.That(await _bus.ClientNode.TerminateAsync(ProofBus.Patience), Is.Zero);
        Assert.That(await _bus.ProviderNode.TerminateAsync(ProofBus.Patience), Is.Zero);
        Assert.That(await _bus.Registry.TerminateAsync(ProofBus.Patience), Is.Zero);

        var transcripts = Directory.GetFiles(_bus.Root, "*.out");
        Assert.That(transcripts, Has.Length.GreaterThanOrEqualTo(4), "a transcript per process");
        foreach (var transcript in transcripts)
        {
            var text = await File.ReadAllTextAsync(transcript);
            Assert.That(text, Is.Not.Empty, transcript);
            foreach (var secret in new[] { Citizen, Official, PayloadMarker, "PRIVATE KEY", "BEGIN CERTIFICATE" })
            {
                Assert.That(text, Does.Not.Contain(secret), $"{Path.GetFileName(transcript)} holds '{secret}'");
            }
        }

        var keys = Directory.GetFiles(_bus.Root, "*.key.pem", SearchOption.AllDirectories);
        var logs = Directory.GetFiles(_bus.Root, "messagelog.db*", SearchOption.AllDirectories);
        Assert.That(keys, Has.Length.GreaterThanOrEqualTo(8), "registry CA, signing, TSA, OCSP, TLS and admin keys; each node's auth and signing keys; the auditor's");
        Assert.That(logs, Is.Not.Empty);
        foreach (var file in keys.Concat(logs))
        {
            var mode = File.GetUnixFileMode(file);
            Assert.That(mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute),
                Is.EqualTo(UnixFileMode.None), $"{file} is {mode}");
        }
    }
}
