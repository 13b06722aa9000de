// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Registry.TrustServices;

namespace ExchangeBus.Registry.Tests.TrustServices;

/// <summary>
/// POST /ocsp and GET /ocsp/{base64} over a real socket, asked by the openssl command line and
/// by the bus's own client. Needs openssl on the PATH (fails without it).
/// </summary>
public sealed class OcspEndpointTests
{
    private TestPki pki = null!;
    private InMemoryCertificateStatusSource statuses = null!;
    private TimeStampAuthority tsa = null!;
    private OcspResponder ocsp = null!;
    private TrustServicesServer server = null!;

    private string Url => new Uri(server.BaseAddress, "/ocsp").ToString();

    [OneTimeSetUp]
    public async Task StartServer()
    {
        // Real time: openssl checks thisUpdate/nextUpdate and certificate validity against its own clock.
        pki = TestPki.Create(TimeProvider.System);
        statuses = new InMemoryCertificateStatusSource();
        tsa = pki.CreateTsa();
        ocsp = pki.CreateOcspResponder(statuses);
        server = await TrustServicesServer.StartAsync(tsa, ocsp);
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
    public async Task OpenSsl_GoodCertificate_ReportsGood_AndVerifiesTheResponse()
    {
        statuses.SetGood(pki.IssueMember("good"));

        var result = await OpenSslOcspAsync("good.pem");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain("good.pem: good"));
            Assert.That(result.All, Does.Contain("Response verify OK"));
            Assert.That(result.All, Does.Not.Contain("WARNING"), "openssl warns about a missing nonce or bad times");
            Assert.That(result.Output, Does.Contain("OCSP Nonce"));
            Assert.That(result.Output, Does.Contain("Next Update:"));
        }
    }

    [Test]
    public async Task OpenSsl_RevokedCertificate_ReportsRevoked_WithTimeAndReason()
    {
        var certificate = pki.IssueMember("revoked");
        statuses.Revoke(certificate, new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero), RevocationReason.KeyCompromise);

        var result = await OpenSslOcspAsync("revoked.pem");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain("revoked.pem: revoked"));
            Assert.That(result.Output, Does.Contain("Reason: keyCompromise"));
            Assert.That(result.Output, Does.Contain("Revocation Time: Mar  4 05:06:07 2026 GMT"));
            Assert.That(result.All, Does.Contain("Response verify OK"));
        }
    }

    [Test]
    public async Task OpenSsl_CertificateTheStoreDoesNotKnow_ReportsUnknown()
    {
        pki.IssueMember("unlisted");

        var result = await OpenSslOcspAsync("unlisted.pem");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Output, Does.Contain("unlisted.pem: unknown"), result.ToString());
            Assert.That(result.All, Does.Contain("Response verify OK"));
        }
    }

    [Test]
    public async Task OpenSsl_SerialNumberNeverIssued_ReportsUnknown()
    {
        var result = await OpenSsl.RunAsync(
            pki.Directory, "ocsp", "-issuer", "root.pem", "-serial", "0x1234567890ABCDEF", "-url", Url, "-CAfile", "root.pem", "-resp_text");

        Assert.That(result.Output, Does.Contain("0x1234567890ABCDEF: unknown"), result.ToString());
    }

    [Test]
    public async Task OpenSsl_Sha256CertId_IsAnswered()
    {
        statuses.SetGood(pki.IssueMember("sha256"));

        var result = await OpenSsl.RunAsync(
            pki.Directory, "ocsp", "-sha256", "-issuer", "root.pem", "-cert", "sha256.pem", "-url", Url, "-CAfile", "root.pem", "-resp_text");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Output, Does.Contain("sha256.pem: good"), result.ToString());
            Assert.That(result.Output, Does.Contain("Hash Algorithm: sha256"));
        }
    }

    [Test]
    public async Task OpenSsl_CertificateOfAnotherIssuer_ReportsUnknown()
    {
        using var foreign = CertificateAuthority.CreateRoot(CertificateNames.CentralService("DEV", "Other", "Root CA"), TimeProvider.System);
        await File.WriteAllTextAsync(pki.PathOf("foreign-root.pem"), foreign.Certificate.ExportCertificatePem() + "\n");

        var result = await OpenSsl.RunAsync(
            pki.Directory, "ocsp", "-issuer", "foreign-root.pem", "-serial", "0x42", "-url", Url, "-CAfile", "root.pem", "-resp_text");

        Assert.That(result.Output, Does.Contain("0x42: unknown"), result.ToString());
    }

    [Test]
    public async Task Garbage_IsAnsweredWithMalformedRequest()
    {
        var reply = await PostAsync("not an OCSP request"u8.ToArray());

        Assert.That(reply, Is.EqualTo(new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x01 }));
    }

    [Test]
    public async Task MalformedRequestReply_IsReadByOpenSsl()
    {
        await File.WriteAllBytesAsync(pki.PathOf("malformed.der"), await PostAsync([0x30, 0x00]));

        var result = await OpenSsl.RunAsync(pki.Directory, "ocsp", "-respin", "malformed.der", "-resp_text");

        Assert.That(result.All, Does.Contain("malformedrequest"), result.ToString());
    }

    [TestCase("application/timestamp-query")]
    [TestCase(null)]
    public async Task WrongContentType_Is415(string? contentType)
    {
        using var content = new ByteArrayContent([0x30, 0x00]);
        content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);

        using var response = await server.Client.PostAsync("/ocsp", content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
    }

    [Test]
    public async Task HugeDeclaredBody_IsRefusedWithoutWaitingForIt()
    {
        var head = "POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"
            + "Content-Length: 104857600\r\n\r\n";

        var response = await RawHttp.SendPartialAsync(server.Port, head, new byte[32 * 1024]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Body, Is.EqualTo(new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x01 }));
        }
    }

    [Test]
    public async Task Get_WithUrlEncodedBase64_IsAnswered()
    {
        var certificate = pki.IssueMember("get");
        statuses.SetGood(certificate);
        var (request, nonce) = RequestWithAwkwardBase64(certificate);

        using var response = await server.Client.GetAsync("/ocsp/" + Uri.EscapeDataString(Convert.ToBase64String(request)));
        var body = await response.Content.ReadAsByteArrayAsync();
        var result = new OcspResponseVerifier(TimeProvider.System).Verify(body, certificate, pki.Root.Certificate, nonce);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(TrustServiceMediaTypes.OcspResponse));
            Assert.That(result.IsGood, Is.True, result.ToString());
        }
    }

    [Test]
    public async Task Get_WithSlashesLeftUnencoded_IsAnswered()
    {
        var certificate = pki.IssueMember("get-raw");
        statuses.SetGood(certificate);
        var (request, nonce) = RequestWithAwkwardBase64(certificate);

        // Some clients only escape '+' and '='; '/' then splits the path into segments.
        var base64 = Convert.ToBase64String(request).Replace("+", "%2B", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal);
        using var response = await server.Client.GetAsync("/ocsp/" + base64);
        var result = new OcspResponseVerifier(TimeProvider.System).Verify(
            await response.Content.ReadAsByteArrayAsync(), certificate, pki.Root.Certificate, nonce);

        Assert.That(result.IsGood, Is.True, result.ToString());
    }

    [TestCase("")]
    [TestCase("!!!not-base64!!!")]
    [TestCase("AAAA")]
    public async Task Get_WithBadRequest_IsAnsweredWithMalformedRequest(string path)
    {
        using var response = await server.Client.GetAsync("/ocsp/" + path);

        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(new byte[] { 0x30, 0x03, 0x0A, 0x01, 0x01 }));
    }

    [Test]
    public async Task OcspClient_GetsAndVerifiesGoodAndRevoked()
    {
        var good = pki.IssueMember("client-good");
        var revoked = pki.IssueMember("client-revoked");
        statuses.SetGood(good);
        statuses.Revoke(revoked, DateTimeOffset.UtcNow.AddMinutes(-1), RevocationReason.Superseded);
        var client = new OcspClient(server.Client, new Uri(Url), new OcspResponseVerifier(TimeProvider.System));

        var goodResult = await client.CheckAsync(good, pki.Root.Certificate);
        var revokedResult = await client.CheckAsync(revoked, pki.Root.Certificate);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(goodResult.IsGood, Is.True, goodResult.ToString());
            Assert.That(goodResult.NextUpdate - goodResult.ThisUpdate, Is.EqualTo(OcspResponderOptions.DefaultNextUpdateWindow));
            Assert.That(revokedResult.IsValid, Is.True, revokedResult.ToString());
            Assert.That(revokedResult.Status, Is.EqualTo(OcspCertificateStatus.Revoked));
            Assert.That(revokedResult.RevocationReason, Is.EqualTo(RevocationReason.Superseded));
        }
    }

    [Test]
    public async Task OcspClient_WrongAddress_ReportsBadResponse()
    {
        var client = new OcspClient(server.Client, new Uri(server.BaseAddress, "/tsa"), new OcspResponseVerifier(TimeProvider.System));

        var result = await client.CheckAsync(pki.OcspCertificate, pki.Root.Certificate);

        Assert.That(result.Code, Is.EqualTo(TrustServiceErrors.OcspBadResponse));
    }

    /// <summary><c>openssl ocsp -issuer root.pem -cert {file} -url … -CAfile root.pem -resp_text</c> (a nonce is sent by default).</summary>
    private Task<OpenSslResult> OpenSslOcspAsync(string certificateFile) => OpenSsl.RunAsync(
        pki.Directory, "ocsp", "-issuer", "root.pem", "-cert", certificateFile, "-url", Url, "-CAfile", "root.pem", "-resp_text");

    /// <summary>A request whose base64 has '+', '/' and '=' in it, so URL encoding matters.</summary>
    private (byte[] Request, byte[] Nonce) RequestWithAwkwardBase64(X509Certificate2 certificate)
    {
        while (true)
        {
            var nonce = RandomNumberGenerator.GetBytes(OcspClient.NonceBytes);
            var request = OcspClient.CreateRequest(certificate, pki.Root.Certificate, nonce);
            var base64 = Convert.ToBase64String(request);
            if (base64.Contains('+', StringComparison.Ordinal) && base64.Contains('/', StringComparison.Ordinal) && base64.EndsWith('='))
            {
                return (request, nonce);
            }
        }
    }

    private async Task<byte[]> PostAsync(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(TrustServiceMediaTypes.OcspRequest);
        using var response = await server.Client.PostAsync("/ocsp", content);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(TrustServiceMediaTypes.OcspResponse));
        return await response.Content.ReadAsByteArrayAsync();
    }
}
