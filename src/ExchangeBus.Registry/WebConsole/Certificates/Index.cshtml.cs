// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>The certificates the registry issued, newest first, searched by serial number, subject, or the member or node they were issued to; a page at a time.</summary>
public sealed class CertificatesModel(RegistryStore store) : PageModel
{
    public ConsolePage<IssuedCertificateView> Certificates { get; private set; } = ConsolePage<IssuedCertificateView>.Of([], 1);

    public string Serial { get; private set; } = string.Empty;

    public string Subject { get; private set; } = string.Empty;

    public string Owner { get; private set; } = string.Empty;

    public void OnGet(string? serial, string? subject, string? owner, int page = 1)
    {
        (Serial, Subject, Owner) = (Bounded(serial, 100), Bounded(subject, 255), Bounded(owner, 255));
        Certificates = ConsoleOutcome.Page(page, (offset, limit) => store.SearchCertificates(Serial, Subject, Owner, offset, limit));
    }

    private static string Bounded(string? value, int length) => value?.Trim() is { } v && v.Length <= length ? v : string.Empty;
}
