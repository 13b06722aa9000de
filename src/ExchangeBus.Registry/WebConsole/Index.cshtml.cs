// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Registry.Storage;
using ExchangeBus.Registry.TrustServices;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>What the central authority looks at first: how many members and nodes, what waits for a decision, the configuration in force, the time-stamping and OCSP services' certificates.</summary>
public sealed class DashboardModel(RegistryStore store, TimeStampAuthority tsa, OcspResponder ocsp, TimeProvider time) : PageModel
{
    /// <summary>The trust services this registry runs, each by the certificate it signs with.</summary>
    public IReadOnlyList<(string Name, string Subject, DateTimeOffset NotAfter, int DaysLeft)> TrustServices { get; private set; } = [];

    public int Members { get; private set; }

    public int Nodes { get; private set; }

    public int Pending { get; private set; }

    public GlobalConfigurationView? Configuration { get; private set; }

    public void OnGet()
    {
        Members = store.ListMembers().Count;
        Nodes = store.ListNodes().Count;
        Pending = store.ListRegistrations([RegistrationState.Pending]).Count;
        Configuration = store.CurrentView();
        var now = time.GetUtcNow();
        (string, string, DateTimeOffset, int) Service(string name, string subject, DateTimeOffset notAfter) =>
            (name, subject, notAfter, CertificateExpiry.DaysLeft(notAfter, now));
        TrustServices =
        [
            Service("TSA (RFC 3161)", tsa.Certificate.Subject, CertificateExpiry.NotAfter(tsa.Certificate)),
            Service("OCSP (RFC 6960)", ocsp.ResponderSubject, ocsp.ResponderNotAfter),
        ];
    }
}
