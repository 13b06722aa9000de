// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Rest;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ExchangeBus.Node.Tests.Rest;

/// <summary>The r1 request parser on the requests of X-Road's PR-REST 1.0.4, sections 4.1-4.3 and 6, and on what it must refuse.</summary>
public sealed class RestRequestParserTests
{
    [Test]
    public void Section41Example_ServiceClientPathAndQuery()
    {
        var request = Parse("GET", "/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1",
            ("X-Road-Client", "INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1"));

        Assert.Multiple(() =>
        {
            Assert.That(request.Method, Is.EqualTo("GET"));
            Assert.That(request.Service.ToString(), Is.EqualTo("INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE"));
            Assert.That(request.Service.Version, Is.Null, "the sixth segment is the path, not a version");
            Assert.That(request.Client.ToString(), Is.EqualTo("INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1"));
            Assert.That(request.Path, Is.EqualTo("/v1/bar/zyggy"));
            Assert.That(request.Query, Is.EqualTo("quu=1"));
        });
    }

    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1124", "/v2/pets/1124")]
    [TestCase("PUT", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/5657082955040009", "/v2/pets/5657082955040009")]
    [TestCase("POST", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets", "/v2/pets")]
    [TestCase("DELETE", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1124", "/v2/pets/1124")]
    [TestCase("POST", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1124/images", "/v2/pets/1124/images")]
    public void Section6Examples_PetstoreThroughXRoad(string method, string target, string path)
    {
        // 6.1: the examples' serviceId is DEV/COM/222/TESTSERVICE/petstore, their client DEV/COM/222/TESTCLIENT (the response headers say so).
        var request = Parse(method, target, ("accept", "application/json"), ("Content-Type", "application/json"), ("X-Road-Client", "DEV/COM/222/TESTCLIENT"));

        Assert.Multiple(() =>
        {
            Assert.That(request.Method, Is.EqualTo(method));
            Assert.That(request.Service.ToString(), Is.EqualTo("DEV/COM/222/TESTSERVICE/petstore"));
            Assert.That(request.Client.ToString(), Is.EqualTo("DEV/COM/222/TESTCLIENT"));
            Assert.That(request.Path, Is.EqualTo(path));
            Assert.That(request.Query, Is.Empty);
            Assert.That(request.Headers, Is.EqualTo(new[] { Header("accept", "application/json"), Header("content-type", "application/json") }));
        });
    }

    [Test]
    public void OurIdentifiers_DotsAndHyphensInParts()
    {
        var request = Parse("GET", "/r1/VN/GOV/000.00.00.H01/registry/citizens?id=001",
            ("X-Road-Client", "VN/GOV/000.00.00.P01/one-stop"));

        Assert.Multiple(() =>
        {
            Assert.That(request.Service.ToString(), Is.EqualTo("VN/GOV/000.00.00.H01/registry/citizens"));
            Assert.That(request.Client.ToString(), Is.EqualTo("VN/GOV/000.00.00.P01/one-stop"));
            Assert.That(request.Path, Is.Empty);
            Assert.That(request.Query, Is.EqualTo("id=001"));
        });
    }

    [Test]
    public void Section42_EachPartPercentDecodedOnItsOwn()
    {
        var request = Parse("GET", "/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2DSERVICE", ("X-Road-Client", "INSTANCE/CLASS/MEMBER/SUB%2DSYSTEM"));

        Assert.Multiple(() =>
        {
            Assert.That(request.Service.ServiceCode, Is.EqualTo("BAR-SERVICE"));
            Assert.That(request.Client.SubsystemCode, Is.EqualTo("SUB-SYSTEM"));
        });
    }

    [Test]
    public void Section43_OptionalHeadersAndWhatIsForwarded()
    {
        var request = Parse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets?term=cat&term=dog",
            ("X-Road-Client", "DEV/COM/222/TESTCLIENT"),
            ("X-Road-Id", "fa2e18a5-c2cb-4d09-b994-f57727f7c3fb"),
            ("X-Road-UserId", "EE12345678901"),
            ("X-Road-Issue", "MT324223MSD"),
            ("X-Road-Represented-Party", "MEMBERCLASS/MEMBERCODE"),
            ("X-Road-Security-Server", "INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE"),
            ("X-Road-Request-Hash", "forged"),
            ("X-Powered-By", "PHP/5.2.17"),
            ("X-Pingback", "https://example.com/xmlrpc.php"),
            ("Cache-Control", "no-cache, no-store, must-revalidate"),
            ("Pragma", "no-cache"),
            ("Authorization", "Bearer token"),
            ("Accept", "application/xml"),
            ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Proxy-Authorization", "Basic x"), ("TE", "trailers"),
            ("Transfer-Encoding", "chunked"), ("Upgrade", "h2c"), ("Host", "node.example"), ("User-Agent", "curl/8.5.0"),
            ("Expect", "100-continue"), ("Content-Length", "0"), (":authority", "node.example"));

        Assert.Multiple(() =>
        {
            Assert.That(request.XRoadId, Is.EqualTo("fa2e18a5-c2cb-4d09-b994-f57727f7c3fb"));
            Assert.That(request.UserId, Is.EqualTo("EE12345678901"));
            Assert.That(request.Issue, Is.EqualTo("MT324223MSD"));
            Assert.That(request.RepresentedParty, Is.EqualTo("MEMBERCLASS/MEMBERCODE"));
            Assert.That(request.Query, Is.EqualTo("term=cat&term=dog"), "4.5: query parameters pass unmodified");
            Assert.That(request.Headers, Is.EqualTo(new[]
            {
                Header("accept", "application/xml"),
                Header("authorization", "Bearer token"),
                Header("cache-control", "no-cache, no-store, must-revalidate"),
                Header("pragma", "no-cache"),
                Header("x-pingback", "https://example.com/xmlrpc.php"),
                Header("x-powered-by", "PHP/5.2.17"),
            }));
        });
    }

    [Test]
    public void NoAccept_DefaultsToJson_AndRepeatedHeadersStayApart()
    {
        var headers = new HeaderDictionary
        {
            ["X-Road-Client"] = new StringValues(["DEV/COM/222/OTHER", "DEV/COM/222/TESTCLIENT"]),
            ["X-Custom"] = new StringValues(["a, b", "c"]),
        };

        Assert.That(RestRequestParser.TryParse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore", headers, out var request, out _), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(request!.Client.SubsystemCode, Is.EqualTo("TESTCLIENT"), "4.3: the last X-Road-Client counts");
            Assert.That(request.Headers, Is.EqualTo(new[] { Header("accept", "application/json"), Header("x-custom", "a, b\nc") }));
        });
    }

    [Test]
    public void ToCallRequest_RestPartsInTheMetadata()
    {
        var request = Parse("PUT", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1?dry=1",
            ("X-Road-Client", "DEV/COM/222/TESTCLIENT"), ("X-Road-Id", "id-1"), ("X-Road-UserId", "EE12345678901"),
            ("X-Road-Represented-Party", "CODE"), ("Content-Type", "application/json"));

        var call = request.ToCallRequest(ByteString.CopyFromUtf8("{}"));

        Assert.Multiple(() =>
        {
            Assert.That(call.Service, Is.EqualTo("DEV/COM/222/TESTSERVICE/petstore"));
            Assert.That(call.Client, Is.EqualTo("DEV/COM/222/TESTCLIENT"));
            Assert.That(call.UserId, Is.EqualTo("EE12345678901"));
            Assert.That(call.Payload.ToStringUtf8(), Is.EqualTo("{}"));
            Assert.That(call.Metadata, Is.EquivalentTo(new Dictionary<string, string>
            {
                ["rest.method"] = "PUT",
                ["rest.path"] = "/v2/pets/1",
                ["rest.query"] = "dry=1",
                ["rest.x-road-id"] = "id-1",
                ["rest.represented-party"] = "CODE",
                ["rest.h.accept"] = "application/json",
                ["rest.h.content-type"] = "application/json",
            }));
        });
    }

    [TestCase("GET", "/r2/DEV/COM/222/TESTSERVICE/petstore", RestReasons.NotR1)]
    [TestCase("GET", "/rest/DEV/COM/222/TESTSERVICE/petstore", RestReasons.NotR1)]
    [TestCase("GET", "/r1", RestReasons.NotR1)]
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE", RestReasons.MissingServiceId)]
    [TestCase("GET", "/r1/INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE", RestReasons.MissingServiceId)] // 4.2's "Invalid" example
    [TestCase("GET", "/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE", RestReasons.InvalidService)] // 4.2's escaped '/', forbidden by 4.8
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/", RestReasons.InvalidService)]
    [TestCase("GET", "/r1/DEV/COM//TESTSERVICE/petstore", RestReasons.InvalidService)]
    [TestCase("GET", "/r1/DEV/COM/222/TEST%20SERVICE/petstore", RestReasons.InvalidService)]
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/p%C3%A9tstore", RestReasons.InvalidService)]
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore/../admin", RestReasons.InvalidPath)]
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore/v2/%2e%2e/%2E%2E/admin", RestReasons.InvalidPath)]
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore//evil.example/x", RestReasons.InvalidPath)]
    [TestCase("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore/a%5C..%5Cb", RestReasons.InvalidPath)]
    [TestCase("G T", "/r1/DEV/COM/222/TESTSERVICE/petstore", RestReasons.InvalidMethod)]
    public void BadTargets_RefusedWithStableReasons(string method, string target, string reason)
    {
        var refusal = Refuse(method, target, ("X-Road-Client", "DEV/COM/222/TESTCLIENT"));

        Assert.Multiple(() =>
        {
            Assert.That(refusal.Reason, Is.EqualTo(reason));
            Assert.That(refusal.Type, Is.EqualTo(reason == RestReasons.InvalidService ? NodeErrors.InvalidIdentifier : NodeErrors.BadRequest));
        });
    }

    [Test]
    public void TooLongTarget_RefusedBeforeItIsRead()
    {
        var refusal = Refuse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore/" + new string('a', RestRequestParser.MaxTargetLength), ("X-Road-Client", "DEV/COM/222/TESTCLIENT"));

        Assert.That((refusal.Type, refusal.Reason), Is.EqualTo((NodeErrors.BadRequest, RestReasons.UriTooLong)));
    }

    [TestCase(null, RestReasons.MissingClient, NodeErrors.BadRequest)]
    [TestCase(" ", RestReasons.MissingClient, NodeErrors.BadRequest)]
    [TestCase("DEV/COM/222", RestReasons.InvalidClient, NodeErrors.InvalidIdentifier)] // a member-level client: not on this bus
    [TestCase("DEV/COM/222/TEST%2FCLIENT", RestReasons.InvalidClient, NodeErrors.InvalidIdentifier)]
    [TestCase("DEV/COM/222/TEST CLIENT", RestReasons.InvalidClient, NodeErrors.InvalidIdentifier)]
    [TestCase("DEV/COM/222/TESTCLIENT/extra", RestReasons.InvalidClient, NodeErrors.InvalidIdentifier)]
    public void BadClientHeader_Refused(string? client, string reason, string type)
    {
        var refusal = client is null
            ? Refuse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore")
            : Refuse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore", ("X-Road-Client", client));

        Assert.That((refusal.Type, refusal.Reason), Is.EqualTo((type, reason)));
    }

    [TestCase("X-Road-Id", "caf\u00e9")]
    [TestCase("X-Road-Id", "has space")]
    [TestCase("X-Road-Represented-Party", "A/B/C")]
    [TestCase("X-Road-Represented-Party", "CLASS/")]
    [TestCase("X-Road-Represented-Party", "CLASS/CO DE")]
    public void BadOptionalHeader_Refused(string name, string value)
    {
        var refusal = Refuse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore", ("X-Road-Client", "DEV/COM/222/TESTCLIENT"), (name, value));

        Assert.That((refusal.Type, refusal.Reason), Is.EqualTo((NodeErrors.BadRequest, RestReasons.InvalidHeader)));
    }

    [Test]
    public void OverlongXRoadId_Refused()
    {
        var refusal = Refuse("GET", "/r1/DEV/COM/222/TESTSERVICE/petstore", ("X-Road-Client", "DEV/COM/222/TESTCLIENT"), ("X-Road-Id", new string('x', RestRequestParser.MaxXRoadIdLength + 1)));

        Assert.That(refusal.Reason, Is.EqualTo(RestReasons.InvalidHeader));
    }

    private static RestRequest Parse(string method, string target, params (string Name, string Value)[] headers)
    {
        Assert.That(RestRequestParser.TryParse(method, target, Headers(headers), out var request, out var refusal), Is.True, () => refusal!.ToString());
        return request!;
    }

    private static RestRefusal Refuse(string method, string target, params (string Name, string Value)[] headers)
    {
        Assert.That(RestRequestParser.TryParse(method, target, Headers(headers), out _, out var refusal), Is.False);
        return refusal!;
    }

    private static HeaderDictionary Headers((string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }

        return dictionary;
    }

    private static KeyValuePair<string, string> Header(string name, string value) => KeyValuePair.Create(name, value);
}
