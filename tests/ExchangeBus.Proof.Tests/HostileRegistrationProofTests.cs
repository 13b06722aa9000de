// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Proof.Tests.Infrastructure;
using ExchangeBus.Tests.Shared;
using Grpc.Core;

namespace ExchangeBus.Proof.Tests;

/// <summary>
/// Issue 15, item 5, against an <c>xbus registry serve</c> process: a stranger with no
/// certificate floods <c>SubmitRegistration</c> (the 200,000-character member id among
/// requests for a member that does not exist). The refusals leave the registry's database under
/// 1 MB larger (10,000 of them: docs/performance.md); with a small per-address budget the flood is answered
/// RESOURCE_EXHAUSTED <c>Registry.RateLimited</c>, and an administrator is still served.
/// </summary>
public sealed class HostileRegistrationProofTests
{
    /// <summary>
    /// 1,000 by default, so the proof suite stays short; the 10,000 with
    /// <c>XBUS_PROOF_FLOOD=10000</c> (docs/performance.md, "Anonymous registration flood").
    /// </summary>
    private static readonly int Flood = int.TryParse(Environment.GetEnvironmentVariable("XBUS_PROOF_FLOOD"), CultureInfo.InvariantCulture, out var n) && n >= 100 ? n : 1_000;

    [Test]
    public async Task AnonymousFlood_GrowsTheDatabaseByLessThanOneMegabyte_AndIsRateLimited()
    {
        var root = Directory.CreateTempSubdirectory("xbus-proof-").FullName;
        var data = Path.Combine(root, "registry");
        var (grpc, http) = (LoopbackPort.PickFree(), LoopbackPort.PickFree());
        string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        string Settings(int perMinute)
        {
            var path = Path.Combine(root, "registry.json");
            File.WriteAllText(path, JsonSerializer.Serialize(new { data, listen = Loopback(grpc), httpListen = Loopback(http), anonymousCallsPerMinute = perMinute }));
            return path;
        }

        await Xbus.MustAsync(root, "registry", "init", "--data", data, "--instance", "VN");

        // First no budget to speak of, so that every request reaches the registration checks.
        var registry = XbusServer.Start("registry", root, $"http://{Loopback(http)}/health/ready", "registry", "serve", "--config", Settings(1_000_000));
        try
        {
            await registry.WaitUntilReadyAsync(ProofBus.Patience);
            await Xbus.MustAsync(root, "registry", "member-class", "add", "GOV", "--data", data);
            await Xbus.MustAsync(root, "registry", "member", "add", "VN/GOV/000.00.00.G01", "--name", "Ministry of Transport", "--data", data);

            using var authKey = EcKeys.GenerateP256();
            using var signingKey = EcKeys.GenerateP256();
            var unknownMember = NodeRegistration.Create(NodeId.Parse("VN/GOV/nobody/ss1"), "127.0.0.1:5500", authKey, signingKey);
            var huge = RegistrationRequest.Parser.ParseFrom(unknownMember.Request);
            huge.Member = new string('A', 200_000);
            var hugeSigned = NodeRegistration.Sign(huge, authKey);
            using var channel = BusChannel.Create(new Uri($"https://{Loopback(grpc)}"), new BusChannelOptions
            {
                ServerTrust = new CertificateTrust([PemFiles.ReadCertificate(Path.Combine(data, ExchangeBus.Registry.Storage.RegistryKeys.Folder, DevelopmentPki.RootCertificateFile))], TimeProvider.System),
            });
            var client = new RegistryService.RegistryServiceClient(channel);

            var before = DatabaseBytes(data);
            var clock = Stopwatch.StartNew();
            var codes = await FloodAsync(client, Flood, i => i % 100 == 0 ? hugeSigned : unknownMember);
            clock.Stop();
            var growth = DatabaseBytes(data) - before;
            TestContext.Progress.WriteLine(
                $"{Flood} anonymous refusals in {clock.Elapsed.TotalSeconds:0.0} s: registry.db + wal {before} -> {before + growth} bytes (+{growth}); " +
                string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Key} x{g.Count()}")));
            Assert.That(codes.Count(c => c == RegistryErrors.UnknownMember), Is.EqualTo(Flood - (Flood / 100)), registry.Output);
            Assert.That(codes.Count(c => c == nameof(StatusCode.ResourceExhausted)), Is.EqualTo(Flood / 100), "200 KB is past what the service reads");
            Assert.That(growth, Is.LessThan(1024 * 1024), registry.Output);

            // The same stranger with the default-sized budget: stopped before its messages are read.
            await registry.TerminateAsync(ProofBus.Patience);
            Settings(30);
            registry.Restart();
            await registry.WaitUntilReadyAsync(ProofBus.Patience);
            var limited = await FloodAsync(client, 200, _ => unknownMember);
            Assert.That(limited, Does.Contain(RegistryErrors.RateLimited), "200 calls at once against a bucket of 30, refilled one every 2 s");
            Assert.That(limited.Distinct(), Is.SubsetOf(new[] { RegistryErrors.RateLimited, RegistryErrors.UnknownMember }));
            var members = await Xbus.MustAsync(root, "registry", "member", "list", "--data", data);
            Assert.That(members, Does.Contain("VN/GOV/000.00.00.G01"), "an administrator is not limited");
            var audit = await Xbus.MustAsync(root, "registry", "audit-log", "verify", "--data", data);
            Assert.That(audit, Does.Contain("audit log intact"));
        }
        finally
        {
            await registry.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Sends <paramref name="count"/> registrations, 32 at a time; each answer's code (the status name where it has none).</summary>
    private static async Task<List<string>> FloodAsync(RegistryService.RegistryServiceClient client, int count, Func<int, SignedRegistrationRequest> request)
    {
        var codes = new List<string>();
        for (var start = 0; start < count; start += 32)
        {
            var batch = Enumerable.Range(start, Math.Min(32, count - start)).Select(async i =>
            {
                try
                {
                    await client.SubmitRegistrationAsync(request(i), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60))).ResponseAsync;
                    return "accepted";
                }
                catch (RpcException ex)
                {
                    return ex.ErrorCode ?? ex.StatusCode.ToString();
                }
            });
            codes.AddRange(await Task.WhenAll(batch));
        }

        return codes;
    }

    private static long DatabaseBytes(string data)
    {
        var path = Path.Combine(data, "registry.db");
        return new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);
    }
}
