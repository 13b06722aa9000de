// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Core.Tests.Pki;

public sealed class CertificateExpiryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [TestCase(400.0, 400)]
    [TestCase(29.9, 29)]
    [TestCase(0.5, 0)]
    [TestCase(-0.5, -1)]
    public void DaysLeft_IsWholeDaysRoundedDown(double days, int expected) =>
        Assert.That(CertificateExpiry.DaysLeft(Now.AddDays(days), Now), Is.EqualTo(expected));

    [Test]
    public void IsSoon_UnderThirtyDays() =>
        Assert.That((CertificateExpiry.IsSoon(29), CertificateExpiry.IsSoon(30)), Is.EqualTo((true, false)));

    [Test]
    public void NotAfter_IsTheCertificatesEndInUtc()
    {
        using var key = ECDsa.Create();
        var request = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(Now.AddDays(-1), Now.AddDays(90));

        Assert.That(CertificateExpiry.NotAfter(certificate), Is.EqualTo(Now.AddDays(90)));
        Assert.That(CertificateExpiry.NotAfter(certificate).Offset, Is.EqualTo(TimeSpan.Zero));
    }
}
