// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Errors;
using ExchangeBus.Registry.Storage;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>
/// Adds a member or a subsystem, disables or enables one: registration officers only, checked
/// here on the server. Each is the store call the management API makes for <c>xbus registry
/// member|subsystem add|disable|enable</c>, with the person's account as the actor; it writes the
/// audit entry, accepted or refused, and publishes the next configuration.
/// </summary>
[Authorize(Policy = RegistryConsolePolicies.ManageMembers)]
public sealed class MemberChangeModel(RegistryStore store) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/Members");

    public IActionResult OnPost(string op, string? member, string? name, string? code, string? subsystem)
    {
        member = member?.Trim() ?? string.Empty;
        var actor = ConsoleAccount.Actor(ConsoleAuthentication.Name(User));
        // A new member is typed as CLASS/CODE (the instance is this registry's); the rest come from the member's page.
        var id = op == "addMember" && !member.StartsWith(store.Instance + "/", StringComparison.Ordinal) ? $"{store.Instance}/{member}" : member;
        Action change = op switch
        {
            "addMember" => () => store.AddMember(actor, id, name?.Trim() ?? string.Empty),
            "disableMember" or "enableMember" => () => store.SetMemberEnabled(actor, id, op == "enableMember"),
            "addSubsystem" => () => store.AddSubsystem(actor, $"{id}/{code?.Trim()}"),
            "disableSubsystem" or "enableSubsystem" => () => store.SetSubsystemEnabled(actor, subsystem ?? string.Empty, op == "enableSubsystem"),
            _ => () => throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "Unknown change."),
        };
        try
        {
            change();
        }
        catch (RegistryException ex)
        {
            return Back(op, id, error: ex.Code);
        }

        return Back(op, id, done: op);
    }

    private static LocalRedirectResult Back(string op, string member, string? done = null, string? error = null) => op == "addMember" && error is not null
        ? OutcomeQuery.Back("/Members", new Dictionary<string, string?> { ["error"] = error })
        : OutcomeQuery.Back("/Members/Detail", new Dictionary<string, string?> { ["member"] = member, ["done"] = done, ["error"] = error });
}
