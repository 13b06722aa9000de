// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Node.Tests.MessageLog;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace ExchangeBus.Node.Tests.Rest;

/// <summary>
/// r1 bodies larger than one chunk, or of unknown length, streamed through both nodes as chains
/// of signed, logged chunks (docs/design/rest-protocol.md, "Bodies"), with the real curl.
/// </summary>
public sealed partial class RestProtocolTests
{
    private const string Streamed = BusFixture.ProviderSubsystem + "/streamed";
    private const string StreamedCapped = BusFixture.ProviderSubsystem + "/streamedCapped";
    private const int StreamedBodyBytes = 80 * 1024 * 1024;
    private const int CappedBodyBytes = 1024 * 1024;
    private const int Chunk = NodeLimits.RestChunkBytes;

    private readonly ConcurrentQueue<Received> _received = new();

    [Test]
    public async Task LargeBodyUpAndDown_StreamsThroughBothNodes_AndBothLogsHoldVerifiedChains()
    {
        const long size = 64L * 1024 * 1024;
        var (file, sent) = await RandomFileAsync(size);

        var run = await RunCurlAsync(true, "--http1.1", "-X", "POST", $"{_node}/r1/{Streamed}/stream/exchange?size={size}&declare=1",
            "-H", "Content-Type: application/octet-stream", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "-T", file);
        TestContext.Progress.WriteLine($"64 MiB up and down: peak working set of the test process (both nodes, backend) {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var answer = run.Answer("");
        var received = _received.Single();
        var messageId = answer.Header("X-Road-Request-Id")!;
        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(200));
            Assert.That(received.Complete, Is.True);
            Assert.That(received.Length, Is.EqualTo(size));
            Assert.That(received.Sha256, Is.EqualTo(sent), "the backend got the body byte for byte");
            Assert.That(received.ContentLength, Is.EqualTo(size), "the declared length crossed");
            Assert.That(Sha256(run.BodyPath), Is.EqualTo(PatternSha256(size)), "the client got the backend's body byte for byte");
            Assert.That(answer.Header("Content-Length"), Is.EqualTo(size.ToString(CultureInfo.InvariantCulture)));
            Assert.That(answer.Header("X-Road-Error"), Is.Null);
        });

        // Request: 1024 chunks and the end record; response: the head, 1024 chunks, the end record.
        AssertChains(messageId, requestLinks: (int)(size / Chunk) + 1, responseLinks: (int)(size / Chunk) + 2);

        // X-Road-Request-Hash: the hash of request message 0, which every response link binds.
        var links = Links(_bus.ProviderNode.Log, messageId, MessageDirection.ProviderResponse);
        Assert.That(links.Select(l => Convert.ToBase64String(l.RequestHash.ToByteArray())).Distinct(), Is.EqualTo(new[] { answer.Header("X-Road-Request-Hash") }));
        File.Delete(file);
        File.Delete(run.BodyPath);
    }

    [Test]
    public async Task LargeAnswerToASmallRequest_StreamsWhenTheClientNodeStreamsAllCalls_ElseDoesNotFitOneEnvelope()
    {
        const long size = (6L * 1024 * 1024) + 1;
        var url = $"{_node}/r1/{Streamed}/stream/exchange?size={size}";

        // A GET declares no body: by default it goes by Deliver, whose answer is one envelope.
        var delivered = await CurlAsync(url, "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");
        AssertRefusal(delivered, 500, NodeErrors.ServiceFailed);

        SetStreamAllCalls(true);
        try
        {
            var run = await RunCurlAsync(true, url, "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}");

            Assert.That(run.ExitCode, Is.Zero, run.Error);
            var answer = run.Answer("");
            Assert.Multiple(() =>
            {
                Assert.That(answer.Version, Is.EqualTo("2"));
                Assert.That(answer.Status, Is.EqualTo(200));
                Assert.That(Sha256(run.BodyPath), Is.EqualTo(PatternSha256(size)));
            });

            // No body: request message 0 and the end record; the head, 97 chunks, the end record.
            AssertChains(answer.Header("X-Road-Request-Id")!, requestLinks: 2, responseLinks: 1 + (int)((size + Chunk - 1) / Chunk) + 1);
            File.Delete(run.BodyPath);
        }
        finally
        {
            SetStreamAllCalls(false);
        }
    }

    [Test]
    public async Task ChunkedRequestBody_StreamsToTheBackend_WithoutADeclaredLength()
    {
        const long size = (4 * Chunk) + 1000;
        var (file, sent) = await RandomFileAsync(size);

        var run = await RunCurlAsync(true, "--http1.1", "-X", "POST", $"{_node}/r1/{Streamed}/stream/exchange?size=10", "-H", "Transfer-Encoding: chunked",
            "-H", "Content-Type: application/octet-stream", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "--data-binary", $"@{file}");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var answer = run.Answer("");
        var received = _received.Single();
        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(200));
            Assert.That(received.Sha256, Is.EqualTo(sent));
            Assert.That(received.ContentLength, Is.Null);
            Assert.That(received.TransferEncoding, Is.EqualTo("chunked"));
            Assert.That(Sha256(run.BodyPath), Is.EqualTo(PatternSha256(10)));
        });
        AssertChains(answer.Header("X-Road-Request-Id")!, requestLinks: 5 + 1, responseLinks: 1 + 1 + 1);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task RequestOverTheServicesCap_RefusedByTheProvider_BeforeTheBackendHasItAll(bool chunked)
    {
        var (file, _) = await RandomFileAsync(4L * CappedBodyBytes);
        string[] transfer = chunked ? ["-H", "Transfer-Encoding: chunked", "--data-binary", $"@{file}"] : ["-T", file];

        var answer = await CurlAsync(["--http1.1", "-X", "POST", $"{_node}/r1/{StreamedCapped}/stream/exchange", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", .. transfer]);

        AssertRefusal(answer, 400, NodeErrors.PayloadTooLarge);
        Assert.That(_received.Where(r => r.Complete), Is.Empty, "the backend never had the whole body");
        Assert.That(_received.Sum(r => r.Length), Is.LessThanOrEqualTo(CappedBodyBytes), "nor more than the cap of it");
        if (!chunked)
        {
            Assert.That(_received, Is.Empty, "a declared length over the cap is refused before the backend is called");
        }
    }

    [TestCase(true, 500)]
    [TestCase(false, 0)]
    public async Task ReplyOverTheServicesCap_IsServiceFailed_OrABrokenAnswerOnceItsHeadIsOut(bool declared, int status)
    {
        var size = 2 * CappedBodyBytes;
        var run = await RunCurlAsync(true, "--http1.1", "-X", "POST", $"{_node}/r1/{StreamedCapped}/stream/exchange?size={size}{(declared ? "&declare=1" : "")}",
            "-H", "Transfer-Encoding: chunked", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "--data-binary", "small");

        if (declared)
        {
            // The backend's Content-Length is over the cap: refused before any of the answer went out.
            Assert.That(run.ExitCode, Is.Zero, run.Error);
            AssertRefusal(run.Answer(await File.ReadAllTextAsync(run.BodyPath)), status, NodeErrors.ServiceFailed);
            return;
        }

        // The cap is passed after the head went out: the connection is aborted, never a short 200.
        Assert.That(run.ExitCode, Is.Not.Zero, "curl must see a broken answer");
        AssertOutcome(run.Answer("").Header("X-Road-Request-Id")!, NodeErrors.ServiceFailed);
    }

    [Test]
    public async Task BackendCutsItsAnswerMidBody_TheClientSeesABrokenAnswer_NotAShort200()
    {
        var run = await RunCurlAsync(true, "--http1.1", "-X", "POST", $"{_node}/r1/{Streamed}/stream/cut?size={4 * CappedBodyBytes}",
            "-H", "Transfer-Encoding: chunked", "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "--data-binary", "small");

        var answer = run.Answer("");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Not.Zero, "curl must see a broken answer: " + run.Error);
            Assert.That(answer.Status, Is.EqualTo(200), "the head had gone out");
            Assert.That(answer.Header("Transfer-Encoding"), Is.EqualTo("chunked"), "no length: only the missing last chunk tells");
            Assert.That(new FileInfo(run.BodyPath).Length, Is.LessThan(4 * CappedBodyBytes));
        });
        AssertOutcome(answer.Header("X-Road-Request-Id")!, NodeErrors.ServiceFailed);
    }

    [Test]
    public async Task AChunkEditedInTheLog_IsFoundByTheLogVerifier()
    {
        var (file, _) = await RandomFileAsync(3L * Chunk);
        var answer = await CurlAsync("--http1.1", "-X", "POST", $"{_node}/r1/{Streamed}/stream/exchange?size=10", "-H", "Transfer-Encoding: chunked",
            "-H", $"X-Road-Client: {BusFixture.ClientSubsystem}", "--data-binary", $"@{file}");
        var messageId = answer.Header("X-Road-Request-Id")!;
        var chunk = _bus.ProviderNode.Log.FindByMessageId(messageId)
            .Where(e => e.Record.Direction == MessageDirection.ProviderRequest)
            .Single(e => MessageHeader.Parser.ParseFrom(e.Record.Header).StreamPosition == 1);

        // A copy of the live log, as an auditor takes one, with one byte of chunk 1 changed.
        var copy = Path.Combine(_files, "edited-" + Guid.NewGuid().ToString("N") + ".db");
        using (var source = new SqliteConnection($"Data Source={_bus.ProviderData[0].Paths.MessageLog};Mode=ReadOnly;Pooling=False"))
        using (var target = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
        }

        using (var intact = MessageLogReader.Open(copy))
        {
            Assert.That(intact.Verify().IsValid, Is.True, intact.Verify().Detail);
        }

        var body = Records.ReadBlob(copy, "body", chunk.Sequence);
        body[100] ^= 0x01;
        Records.Tamper(copy, "UPDATE records SET body = $body WHERE seq = $seq;", ("$body", body), ("$seq", chunk.Sequence));

        using var edited = MessageLogReader.Open(copy);
        var result = edited.Verify();
        Assert.Multiple(() =>
        {
            Assert.That(result.IsValid, Is.False);
            Assert.That(result.FirstBadSequence, Is.EqualTo(chunk.Sequence), result.Detail);
        });
    }

    private void SetStreamAllCalls(bool streamAll)
    {
        var path = _bus.ClientData.Paths.Settings;
        (NodeSettings.Read(path) with { RestStreamAllCalls = streamAll }).Write(path);
        var reload = _bus.ClientNode.Settings.Reload();
        Assert.That(reload.ErrorCode, Is.Null, reload.Message);
    }

    /// <summary>Both nodes logged both chains whole (each link at its position), and each log verifies.</summary>
    private void AssertChains(string messageId, int requestLinks, int responseLinks)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Links(_bus.ClientNode.Log, messageId, MessageDirection.ClientRequest).Select(l => (int)l.StreamPosition), Is.EqualTo(Enumerable.Range(0, requestLinks)));
            Assert.That(Links(_bus.ProviderNode.Log, messageId, MessageDirection.ProviderRequest).Select(l => (int)l.StreamPosition), Is.EqualTo(Enumerable.Range(0, requestLinks)));
            Assert.That(Links(_bus.ProviderNode.Log, messageId, MessageDirection.ProviderResponse).Select(l => (int)l.StreamPosition), Is.EqualTo(Enumerable.Range(0, responseLinks)));
            Assert.That(Links(_bus.ClientNode.Log, messageId, MessageDirection.ClientResponse).Select(l => (int)l.StreamPosition), Is.EqualTo(Enumerable.Range(0, responseLinks)));
            Assert.That(Links(_bus.ClientNode.Log, messageId, MessageDirection.ClientRequest).Last().Kind, Is.EqualTo(MessageKind.RequestEnd));
            Assert.That(Links(_bus.ClientNode.Log, messageId, MessageDirection.ClientResponse).Last().Kind, Is.EqualTo(MessageKind.ResponseEnd));
            Assert.That(_bus.ClientNode.Log.Verify().IsValid, Is.True, _bus.ClientNode.Log.Verify().Detail);
            Assert.That(_bus.ProviderNode.Log.Verify().IsValid, Is.True, _bus.ProviderNode.Log.Verify().Detail);
        });
    }

    /// <summary>Both nodes closed the call with <paramref name="code"/>'s outcome record.</summary>
    private void AssertOutcome(string messageId, string code)
    {
        Assert.That(messageId, Does.Match("^[0-9a-f]{32}$"));
        Assert.Multiple(() =>
        {
            Assert.That(_bus.ProviderNode.Log.FindByMessageId(messageId).Last(e => e.Record.Direction == MessageDirection.ProviderResponse).Record.Status, Is.EqualTo(code));
            Assert.That(_bus.ClientNode.Log.FindByMessageId(messageId).Last(e => e.Record.Direction == MessageDirection.ClientResponse).Record.Status, Is.EqualTo(code));
        });
    }

    private static List<MessageHeader> Links(SqliteMessageLog log, string messageId, MessageDirection direction) =>
        [.. log.FindByMessageId(messageId).Where(e => e.Record.Direction == direction && e.Record.Header.Length > 0).Select(e => MessageHeader.Parser.ParseFrom(e.Record.Header))];

    private async Task<(string Path, string Sha256)> RandomFileAsync(long size)
    {
        var path = Path.Combine(_files, Guid.NewGuid().ToString("N") + ".bin");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1024 * 1024];
        await using (var file = File.Create(path))
        {
            for (long written = 0; written < size; written += buffer.Length)
            {
                var part = buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written));
                RandomNumberGenerator.Fill(part.Span);
                sha.AppendData(part.Span);
                await file.WriteAsync(part);
            }
        }

        return (path, Convert.ToHexString(sha.GetHashAndReset()));
    }

    private static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(file));
    }

    private static string PatternSha256(long size)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[Chunk];
        for (long offset = 0; offset < size; offset += buffer.Length)
        {
            var part = buffer.AsSpan(0, (int)Math.Min(buffer.Length, size - offset));
            Pattern(offset, part);
            sha.AppendData(part);
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>The backend's answer bytes: a function of the offset, so neither side keeps them.</summary>
    private static void Pattern(long offset, Span<byte> part)
    {
        for (var i = 0; i < part.Length; i++)
        {
            part[i] = (byte)(((ulong)(offset + i) * 0x9E3779B97F4A7C15UL) >> 56);
        }
    }

    /// <summary>
    /// /stream/exchange hashes the request body as it comes (never holding it), then answers
    /// <c>size</c> pattern bytes (with a Content-Length when <c>declare</c> is given);
    /// /stream/cut answers a quarter of them and then drops the connection.
    /// </summary>
    private async Task StreamingBackendAsync(HttpContext context)
    {
        var request = context.Request;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[Chunk];
        long length = 0;
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                length += read;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            _received.Enqueue(new Received(length, "", request.ContentLength, request.Headers.TransferEncoding.ToString(), Complete: false));
            return;
        }

        _received.Enqueue(new Received(length, Convert.ToHexString(sha.GetHashAndReset()), request.ContentLength,
            request.Headers.TransferEncoding.Count == 0 ? null : request.Headers.TransferEncoding.ToString(), Complete: true));
        var size = long.Parse(request.Query["size"].FirstOrDefault() ?? "0", CultureInfo.InvariantCulture);
        var response = context.Response;
        response.ContentType = "application/octet-stream";
        if (request.Query.ContainsKey("declare"))
        {
            response.ContentLength = size;
        }

        for (long offset = 0; offset < size; offset += buffer.Length)
        {
            if (request.Path.Value == "/stream/cut" && offset >= size / 4)
            {
                await response.Body.FlushAsync();
                context.Abort();
                return;
            }

            var part = buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - offset));
            Pattern(offset, part.Span);
            await response.Body.WriteAsync(part, context.RequestAborted);
        }
    }

    private sealed record Received(long Length, string Sha256, long? ContentLength, string? TransferEncoding, bool Complete);
}
