// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Pki;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>What a node asked for: its identity, address, the two CSRs' subjects and key fingerprints; and, for an officer, the decision forms.</summary>
public sealed class RegistrationDetailModel(RegistryStore store, IAuthorizationService authorization) : PageModel
{
    /// <summary>The page's own code for a refusal without a reason (the store's codes come as they are).</summary>
    public const string ReasonRequired = ConsoleOutcome.ReasonRequired;

    public string Id { get; private set; } = string.Empty;

    public RegistrationRequestDetail? Detail { get; private set; }

    public CsrSummary? Authentication { get; private set; }

    public CsrSummary? Signing { get; private set; }

    /// <summary>Whether to show the forms; the decision page checks the policy again on the server.</summary>
    public bool MayDecide { get; private set; }

    public string? Done { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(string id, string? done, string? error)
    {
        Id = id ?? string.Empty;
        Done = done;
        Error = OutcomeQuery.Error(error);
        Detail = store.FindRegistration(Id);
        Authentication = CsrSummary.Of(Detail?.AuthenticationCsr);
        Signing = CsrSummary.Of(Detail?.SigningCsr);
        MayDecide = (await authorization.AuthorizeAsync(User, RegistryConsolePolicies.DecideRegistrations)).Succeeded;
    }
}

/// <summary>What an officer checks in a CSR: whom it names and which key it carries.</summary>
public sealed record CsrSummary(string Subject, string KeyFingerprint)
{
    public static CsrSummary? Of(byte[]? der) =>
        der is { Length: > 0 } && CertificateSigningRequests.Parse(der).Csr is { } csr
            ? new CsrSummary(csr.Subject.Name, Core.Registration.KeyFingerprint.Of(csr.PublicKey.ExportSubjectPublicKeyInfo()))
            : null;
}
