// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices;

namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>
/// POST /tsa over a real socket, checked with the openssl command line: its queries are
/// answered and its verifier accepts our tokens. Needs openssl on the PATH (fails without it).
/// </summary>
public sealed class TimeStampEndpointTests
{
    private TestPki pki = null!;
    private TimeStampAuthority tsa = null!;
    private OcspResponder ocsp = null!;
    private TrustServicesServer server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        // Real time: openssl checks certificate validity against its own clock.
        pki = TestPki.Create(TimeProvider.System);
        tsa = pki.CreateTsa();
        ocsp = pki.CreateOcspResponder(new InMemoryCertificateStatusSource());
        server = await TrustServicesServer.StartAsync(tsa, ocsp);
        await File.WriteAllTextAsync(pki.PathOf("data.txt"), "tree head 42: 0f3c…\n");
        await File.WriteAllTextAsync(pki.PathOf("tampered.txt"), "tree head 43: 0f3c…\n");
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await server.DisposeAsync();
        tsa.Dispose();
        ocsp.Dispose();
        pki.Dispose();
    }

    [Test]
    public async Task OpenSslQuery_IsGranted_AndOpenSslVerifiesTheReply()
    {
        await TimeStampWithOpenSslQueryAsync("ok");

        var verify = await OpenSsl.RunAsync(
            pki.Directory, "ts", "-verify", "-data", "data.txt", "-in", "ok.tsr", "-CAfile", "root.pem", "-untrusted", "tsa.pem");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(verify.ExitCode, Is.Zero, verify.ToString());
            Assert.That(verify.All, Does.Contain("Verification: OK"));
        }
    }

    [Test]
    public async Task OpenSslVerify_OfTamperedData_Fails()
    {
        await TimeStampWithOpenSslQueryAsync("tamper");

        var verify = await OpenSsl.RunAsync(
            pki.Directory, "ts", "-verify", "-data", "tampered.txt", "-in", "tamper.tsr", "-CAfile", "root.pem", "-untrusted", "tsa.pem");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(verify.ExitCode, Is.Not.Zero, verify.ToString());
            Assert.That(verify.All, Does.Not.Contain("Verification: OK"));
            Assert.That(verify.All, Does.Contain("message imprint mismatch"));
        }
    }

    [Test]
    public async Task OpenSslReplyText_ShowsGrantedPolicyAndTheQueryNonce()
    {
        await TimeStampWithOpenSslQueryAsync("text");

        var reply = await OpenSsl.RunOkAsync(pki.Directory, "ts", "-reply", "-in", "text.tsr", "-text");
        var query = await OpenSsl.RunOkAsync(pki.Directory, "ts", "-query", "-in", "text.tsq", "-text");
        var nonce = query.Output.Split('\n').Single(l => l.StartsWith("Nonce:", StringComparison.Ordinal)).Trim();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Output, Does.Contain("Status: Granted."));
            Assert.That(reply.Output, Does.Contain("Policy OID: " + TimeStampAuthorityOptions.PlaceholderPolicyOid));
            Assert.That(reply.Output, Does.Contain("Hash Algorithm: sha256"));
            Assert.That(reply.Output, Does.Contain(nonce));
        }
    }

    [Test]
    public async Task OpenSslQueryWithoutCertReq_GetsTokenWithoutCertificates_StillVerifiable()
    {
        await OpenSsl.RunOkAsync(pki.Directory, "ts", "-query", "-data", "data.txt", "-sha512", "-out", "nocert.tsq");
        var reply = await PostAsync(await File.ReadAllBytesAsync(pki.PathOf("nocert.tsq")));
        await File.WriteAllBytesAsync(pki.PathOf("nocert.tsr"), reply);

        Assert.That(TimeStampResponse.TryDecode(reply, out var response), Is.True);
        var cms = new SignedCms();
        cms.Decode(response!.Token!.Value.Span);
        var verify = await OpenSsl.RunAsync(
            pki.Directory, "ts", "-verify", "-data", "data.txt", "-in", "nocert.tsr", "-CAfile", "root.pem", "-untrusted", "tsa.pem");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(cms.Certificates, Is.Empty);
            Assert.That(verify.All, Does.Contain("Verification: OK"), verify.ToString());
        }
    }

    [TestCase("-sha1")]
    [TestCase("-md5")]
    public async Task OpenSslQuery_WithWeakHash_IsRejectedWithBadAlg(string digest)
    {
        var name = "weak" + digest;
        await OpenSsl.RunOkAsync(pki.Directory, "ts", "-query", "-data", "data.txt", digest, "-cert", "-out", name + ".tsq");

        var response = Decode(await PostAsync(await File.ReadAllBytesAsync(pki.PathOf(name + ".tsq"))));

        AssertRejected(response, TimeStampFailureInfo.BadAlgorithm);
    }

    [Test]
    public async Task Garbage_IsAnsweredWithRejection_BadDataFormat()
    {
        var response = Decode(await PostAsync("GET / HTTP/1.0\r\n\r\nthis is not DER"u8.ToArray()));

        AssertRejected(response, TimeStampFailureInfo.BadDataFormat);
        Assert.That(response.StatusText, Does.Contain("not a DER TimeStampReq"));
    }

    [Test]
    public async Task EmptyBody_IsAnsweredWithRejection_BadDataFormat()
    {
        var response = Decode(await PostAsync([]));

        AssertRejected(response, TimeStampFailureInfo.BadDataFormat);
    }

    [Test]
    public async Task RejectionReply_IsReadableByOpenSsl()
    {
        await File.WriteAllBytesAsync(pki.PathOf("rejected.tsr"), await PostAsync([0x30, 0x03, 0x02, 0x01]));

        var text = await OpenSsl.RunOkAsync(pki.Directory, "ts", "-reply", "-in", "rejected.tsr", "-text");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(text.Output, Does.Contain("Status: Rejected."));
            Assert.That(text.Output, Does.Contain("the data submitted has the wrong format"));
        }
    }

    [TestCase("application/ocsp-request")]
    [TestCase("application/octet-stream")]
    [TestCase(null)]
    public async Task WrongContentType_Is415(string? contentType)
    {
        using var content = new ByteArrayContent(Rfc3161TimestampRequest.CreateFromHash(new byte[32], HashAlgorithmName.SHA256).Encode());
        content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);

        using var response = await server.Client.PostAsync("/tsa", content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
    }

    [Test]
    public async Task ContentTypeWithParameters_IsAccepted()
    {
        using var content = new ByteArrayContent(Rfc3161TimestampRequest.CreateFromHash(new byte[32], HashAlgorithmName.SHA256).Encode());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("Application/Timestamp-Query; charset=binary");

        using var response = await server.Client.PostAsync("/tsa", content);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.That(Decode(body).IsGranted, Is.True);
    }

    [Test]
    public async Task GetOnTsa_IsNotServed()
    {
        using var response = await server.Client.GetAsync("/tsa");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
    }

    [Test]
    public async Task BodyAtTheLimit_IsParsed_OneByteMore_IsRefusedAsTooLarge()
    {
        var atLimit = Decode(await PostAsync(new byte[tsa.MaxRequestBytes]));
        var overLimit = Decode(await PostAsync(new byte[tsa.MaxRequestBytes + 1]));

        AssertRejected(atLimit, TimeStampFailureInfo.BadDataFormat);
        AssertRejected(overLimit, TimeStampFailureInfo.BadRequest);
    }

    [Test]
    public async Task HugeDeclaredBody_IsRefusedWithoutWaitingForIt()
    {
        var head = "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
            + "Content-Length: 104857600\r\n\r\n";

        // 32 KiB of the announced 100 MiB: a server that reads it all would never answer.
        var response = await RawHttp.SendPartialAsync(server.Port, head, new byte[32 * 1024]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Headers["Content-Type"], Is.EqualTo(TrustServiceMediaTypes.TimeStampReply));
        }

        AssertRejected(Decode(response.Body), TimeStampFailureInfo.BadRequest);
    }

    [Test]
    public async Task EndlessChunkedBody_IsRefusedAfterTheLimit()
    {
        var head = "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
        var chunk = new List<byte>();
        chunk.AddRange("8000\r\n"u8.ToArray());
        chunk.AddRange(new byte[0x8000]);
        chunk.AddRange("\r\n"u8.ToArray());

        // One 32 KiB chunk and never the terminating one.
        var response = await RawHttp.SendPartialAsync(server.Port, head, chunk.ToArray());

        Assert.That(response.Status, Is.EqualTo(200));
        AssertRejected(Decode(response.Body), TimeStampFailureInfo.BadRequest);
    }

    [Test]
    public async Task TimeStampClient_GetsAndVerifiesAToken()
    {
        using var verifier = new TimeStampTokenVerifier([pki.TsaCertificate], [], TimeProvider.System);
        var client = new TimeStampClient(server.Client, new Uri(server.BaseAddress, "/tsa"), verifier);
        var hash = SHA256.HashData("a Merkle tree head"u8);

        var result = await client.RequestAsync(hash);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsValid, Is.True, result.ToString());
            Assert.That(result.PolicyOid, Is.EqualTo(TimeStampAuthorityOptions.PlaceholderPolicyOid));
            Assert.That(result.GenTime, Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That(verifier.VerifyTokenForHash(result.Token.Span, hash).IsValid, Is.True);
        }
    }

    [Test]
    public async Task TimeStampClient_WrongAddress_ReportsBadResponse()
    {
        using var verifier = new TimeStampTokenVerifier([pki.TsaCertificate], [], TimeProvider.System);
        var client = new TimeStampClient(server.Client, new Uri(server.BaseAddress, "/ocsp"), verifier);

        var result = await client.RequestAsync(new byte[32]);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.TimeStampBadResponse));
    }

    [Test]
    public async Task ConcurrentRequests_AllGetValidTokensWithDistinctSerialNumbers()
    {
        using var verifier = new TimeStampTokenVerifier([pki.TsaCertificate], [], TimeProvider.System);
        var client = new TimeStampClient(server.Client, new Uri(server.BaseAddress, "/tsa"), verifier);

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            client.RequestAsync(SHA256.HashData(BitConverter.GetBytes(i)))));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(results.Where(r => !r.IsValid).Select(r => r.ToString()), Is.Empty);
            Assert.That(results.Select(r => r.SerialNumber).Distinct().Count(), Is.EqualTo(results.Length));
        }
    }

    private static TimeStampResponse Decode(byte[] reply)
    {
        Assert.That(TimeStampResponse.TryDecode(reply, out var response), Is.True, "not a TimeStampResp: " + Convert.ToHexString(reply));
        return response!;
    }

    private static void AssertRejected(TimeStampResponse response, TimeStampFailureInfo failure)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.Status, Is.EqualTo(TimeStampStatus.Rejection));
            Assert.That(response.FailureInfo, Is.EqualTo(failure));
            Assert.That(response.Token.HasValue, Is.False);
        }
    }

    /// <summary><c>openssl ts -query -data data.txt -sha256 -cert -out {name}.tsq</c>, POSTed; the reply saved as {name}.tsr.</summary>
    private async Task TimeStampWithOpenSslQueryAsync(string name)
    {
        await OpenSsl.RunOkAsync(pki.Directory, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", name + ".tsq");
        var reply = await PostAsync(await File.ReadAllBytesAsync(pki.PathOf(name + ".tsq")));
        await File.WriteAllBytesAsync(pki.PathOf(name + ".tsr"), reply);
        Assert.That(Decode(reply).IsGranted, Is.True);
    }

    private async Task<byte[]> PostAsync(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(TrustServiceMediaTypes.TimeStampQuery);
        using var response = await server.Client.PostAsync("/tsa", content);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(TrustServiceMediaTypes.TimeStampReply));
        return await response.Content.ReadAsByteArrayAsync();
    }
}
