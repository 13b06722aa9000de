// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.MessageLog;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>
/// `xbus audit reconcile` on a streamed call: two request links and four response links (the end
/// record last) as each node's audit API summarises them, compared link by link.
/// </summary>
public sealed class StreamReconciliationTests
{
    private const string ClientNode = "VN/GOV/000.00.00.G01/ss1";
    private const string ProviderNode = "VN/GOV/000.00.00.H01/ss1";
    private const string MessageId = "stream-1";
    private static readonly DateTimeOffset At = DateTimeOffset.UtcNow;

    [Test]
    public void SameLinksOnBothNodes_Agree()
    {
        var report = Compare(Client(), Provider());

        Assert.That(report.Differences, Is.Empty);
        Assert.That((report.Exchanges, report.Matched), Is.EqualTo((1, 1)));
    }

    [Test]
    public void ALaterResponseLinkDiffers_ItIsNamed()
    {
        var client = Client();
        var link2 = client.Where(r => r.Direction == (uint)MessageDirection.ClientResponse).ElementAt(2);
        link2.Signature = ByteString.CopyFromUtf8("another signature");

        var report = Compare(client, Provider());

        Assert.That(report.Differences.Select(d => (d.Code, d.Node, d.Sequence)), Is.EqualTo(new[] { (ReconcileFindings.ResponseDiffers, ClientNode, (long)link2.Sequence) }));
        Assert.That(report.Matched, Is.Zero);
    }

    [Test]
    public void ALaterRequestLinkMissingOnTheProvider_TheNextOneDiffers()
    {
        var provider = Provider();
        provider.RemoveAll(r => r.Direction == (uint)MessageDirection.ProviderRequest && r.Sequence == 2);
        provider.Add(Record(2, MessageDirection.ProviderRequest, ClientNode, "request-link-2"));

        var report = Compare(Client(), provider);

        Assert.That(report.Differences.Select(d => (d.Code, d.Node)), Is.EqualTo(new[] { (ReconcileFindings.RequestDiffers, ProviderNode) }));
    }

    [Test]
    public void TheProviderStoppedReadingBeforeTheLastRequestLink_NotADifference()
    {
        // The backend ended the call first: the client's node logged its REQUEST_END, the provider's never read it.
        var provider = Provider();
        provider.RemoveAll(r => r.Direction == (uint)MessageDirection.ProviderRequest && r.Sequence == 2);

        Assert.That(Compare(Client(), provider).Differences, Is.Empty);
    }

    [Test]
    public void ALinkTheSenderNeverLogged_IsMissingThere()
    {
        var provider = Provider();
        provider.Add(Record(20, MessageDirection.ProviderRequest, ClientNode, "request-link-extra"));

        var report = Compare(Client(), provider);

        Assert.That(report.Differences.Select(d => (d.Code, d.Node, d.Sequence)), Is.EqualTo(new[] { (ReconcileFindings.ResponseMissing, ProviderNode, 20L) }));
    }

    [Test]
    public void AResponseLinkMissingInTheMiddleOnTheClient_TheClientsNextLinkDiffers()
    {
        // The receiver's log lost response link 1: its link 1 is now the provider's link 2.
        var client = Client();
        var lost = client.Where(r => r.Direction == (uint)MessageDirection.ClientResponse).ElementAt(1);
        client.Remove(lost);

        var report = Compare(client, Provider());

        var next = client.Where(r => r.Direction == (uint)MessageDirection.ClientResponse).ElementAt(1);
        Assert.That(report.Differences.Select(d => (d.Code, d.Node, d.Sequence)), Is.EqualTo(new[] { (ReconcileFindings.ResponseDiffers, ClientNode, (long)next.Sequence) }));
        Assert.That(report.Matched, Is.Zero);
    }

    [Test]
    public void AResponseLinkMissingOnTheProvider_TheClientsLinkThereIsNotTheProviders()
    {
        // The sender's log lost response link 2: the client's link 2 is not what the provider logged as link 2.
        var provider = Provider();
        provider.Remove(provider.Where(r => r.Direction == (uint)MessageDirection.ProviderResponse).ElementAt(2));

        var report = Compare(Client(), provider);

        var clientLink2 = Client().Where(r => r.Direction == (uint)MessageDirection.ClientResponse).ElementAt(2);
        Assert.That(report.Differences.Select(d => (d.Code, d.Node, d.Sequence)), Is.EqualTo(new[] { (ReconcileFindings.ResponseDiffers, ClientNode, (long)clientLink2.Sequence) }));
    }

    private static ReconcileReport Compare(List<RecordSummary> client, List<RecordSummary> provider) =>
        Reconciliation.Compare(ClientNode, client, ProviderNode, provider, At.AddMinutes(-1), At.AddMinutes(1));

    private static List<RecordSummary> Client() => Links(MessageDirection.ClientRequest, MessageDirection.ClientResponse);

    private static List<RecordSummary> Provider() => Links(MessageDirection.ProviderRequest, MessageDirection.ProviderResponse);

    /// <summary>Requests as sequences 1-2 ("request-link-k"), responses 3-6 ("response-link-k"): the same signed messages on either node.</summary>
    private static List<RecordSummary> Links(MessageDirection request, MessageDirection response) =>
    [
        .. Enumerable.Range(0, 2).Select(k => Record((ulong)(1 + k), request, ClientNode, $"request-link-{k}")),
        .. Enumerable.Range(0, 4).Select(k => Record((ulong)(3 + k), response, ProviderNode, $"response-link-{k}")),
    ];

    private static RecordSummary Record(ulong sequence, MessageDirection direction, string sender, string message) => new()
    {
        Sequence = sequence,
        At = Timestamp.FromDateTimeOffset(At),
        MessageId = MessageId,
        Direction = (uint)direction,
        Client = "VN/GOV/000.00.00.G01/licence",
        Service = "VN/GOV/000.00.00.H01/registry/citizenRegistry/v1",
        Status = MessageLogRecord.StatusOk,
        BodySha256 = ByteString.CopyFrom(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(message))),
        Signature = ByteString.CopyFromUtf8("signature of " + message),
        SenderNode = sender,
    };
}
