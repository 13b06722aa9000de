// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Trust;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>
/// The provider remembers a signer certificate and OCSP response that passed the chain and
/// status checks; a remembered pair must still get every check that depends on the message or
/// on the time.
/// </summary>
[NonParallelizable]
public sealed class EnvelopeVerificationCacheTests
{
    private BusFixture _bus = null!;

    [OneTimeSetUp]
    public async Task SetUp() => _bus = await BusFixture.StartAsync();

    [OneTimeTearDown]
    public async Task TearDown() => await _bus.DisposeAsync();

    private SignedEnvelope Genuine(string body = "hello") => _bus.SignAsClient(_bus.RequestHeader(), body);

    private static MemberId? ClientMember(MessageHeader header) => ClientId.Parse(header.Client).Member;

    private string Refusal(EnvelopeVerification verification, SignedEnvelope envelope, Func<MessageHeader, MemberId?>? signer = null)
    {
        var view = _bus.ProviderNode.Configuration.Current(NodeErrors.OutdatedGlobalConf);
        var ex = Assert.Throws<NodeException>(() => verification.Verify(envelope, view, signer ?? ClientMember, EnvelopeVerification.ProviderCodes));
        return ex!.Code;
    }

    private VerifiedEnvelope Accept(EnvelopeVerification verification, SignedEnvelope envelope) =>
        verification.Verify(envelope, _bus.ProviderNode.Configuration.Current(NodeErrors.OutdatedGlobalConf), ClientMember, EnvelopeVerification.ProviderCodes);

    [Test]
    public void RememberedSigner_TamperedBodyStillFailsTheSignature()
    {
        var verification = new EnvelopeVerification(TimeProvider.System);
        Accept(verification, Genuine());
        var tampered = Genuine();
        tampered.Body = ByteString.CopyFromUtf8("HELLO");

        Assert.That(Refusal(verification, tampered), Is.EqualTo(NodeErrors.InvalidSignature));
        Assert.That(Accept(verification, Genuine()).Header.Client, Is.EqualTo(BusFixture.ClientSubsystem));
    }

    [Test]
    public void RememberedSigner_StillMustBeTheMemberTheHeaderNames()
    {
        var verification = new EnvelopeVerification(TimeProvider.System);
        Accept(verification, Genuine());

        Assert.That(Refusal(verification, Genuine(), _ => MemberId.Parse(BusFixture.Provider)), Is.EqualTo(NodeErrors.SignerNotClient));
    }

    [Test]
    public void RememberedOcspResponse_RefusedOnceOlderThanTheFreshnessLimit()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var verification = new EnvelopeVerification(clock);
        var envelope = Genuine();
        Accept(verification, envelope);
        Accept(verification, envelope);

        var freshness = _bus.ProviderNode.Configuration.Current(NodeErrors.OutdatedGlobalConf).Parameters.OcspFreshness;
        clock.Advance(freshness + TimeSpan.FromMinutes(1));

        Assert.That(Refusal(verification, envelope), Is.EqualTo(NodeErrors.StaleOcsp));
    }

    [Test]
    public void ClockThatWentBack_ChecksAfresh()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var verification = new EnvelopeVerification(clock);
        var envelope = Genuine();
        Accept(verification, envelope);

        // Before the OCSP response was produced (beyond the allowed skew): not "still good".
        clock.AdjustTime(clock.GetUtcNow() - TimeSpan.FromHours(1)); // Advance only goes forward; AdjustTime sets the clock back

        Assert.That(Refusal(verification, envelope), Is.Not.Null);
    }
}
