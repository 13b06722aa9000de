// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Hosting;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Registry.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>An issued certificate: whom it names, who issued it, its validity and fingerprint, its state; and, for a security officer, the revocation form.</summary>
public sealed class CertificateDetailModel(RegistryStore store, IAuthorizationService authorization) : PageModel
{
    /// <summary>The RFC 5280 reasons a person may give (RevocationReasons' names; removeFromCRL and certificateHold do not apply to a revocation that is final).</summary>
    public static readonly IReadOnlyList<string> Reasons =
        ["unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation", "privilegeWithdrawn", "aACompromise"];

    public string Serial { get; private set; } = string.Empty;

    public IssuedCertificateView? Certificate { get; private set; }

    public X509Certificate2? Parsed { get; private set; }

    public string Fingerprint { get; private set; } = string.Empty;

    public bool MayRevoke { get; private set; }

    public string? Done { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string serial, string? done = null, string? error = null)
    {
        Serial = serial is { Length: <= 100 } ? serial : string.Empty;
        Certificate = Serial.Length > 0 ? store.FindCertificate(Serial) : null;
        if (Certificate is not null)
        {
            Parsed = X509CertificateLoader.LoadCertificate(Certificate.Der);
            HttpContext.Response.RegisterForDispose(Parsed);
            Fingerprint = Convert.ToHexStringLower(SHA256.HashData(Certificate.Der));
        }

        (Done, Error) = (OutcomeQuery.Done(done), OutcomeQuery.Error(error));
        MayRevoke = (await authorization.AuthorizeAsync(User, RegistryConsolePolicies.RevokeCertificates)).Succeeded;
    }
}
