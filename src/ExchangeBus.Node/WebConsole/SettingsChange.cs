// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Configuration;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using ExchangeBus.WebConsole.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole;

/// <summary>
/// What every console edit of node.json does after its page's policy let the person through:
/// the change through <see cref="NodeSettingsEditor"/> (locked against the <c>xbus node</c>
/// commands, validated, audited with <c>console:NAME</c>), then back to the list with the
/// outcome (post, redirect, get, by the consoles' shared <see cref="OutcomeQuery"/>):
/// <c>done=saved|unchanged</c> or the refusal's code in the query string, the validator's words
/// in TempData (<see cref="Message"/>): the query string is anyone's to write, so no free text
/// is read back from it.
/// </summary>
internal static class SettingsChange
{
    public const string Saved = "saved";
    public const string Unchanged = "unchanged";

    /// <summary>The TempData key of a refusal's message (one read, then gone).</summary>
    public const string Message = "settings-message";

    public static async Task<IActionResult> ApplyAsync(PageModel page, NodeSettingsEditor editor, string back, string action, Func<NodeSettings, NodeSettings> change)
    {
        Dictionary<string, string?> outcome;
        try
        {
            var changed = await editor.EditAsync(ConsoleAccount.Actor(ConsoleAuthentication.Name(page.User)), action, change, page.HttpContext.RequestAborted);
            outcome = new() { ["done"] = changed ? Saved : Unchanged };
        }
        catch (NodeConfigurationException ex)
        {
            // The validator's own words (which field, why): no secret is in node.json. In TempData
            // (a protected cookie only this server writes), not the query string.
            page.TempData[Message] = ex.Message.Length > 500 ? ex.Message[..500] : ex.Message;
            outcome = new() { ["error"] = ex.Code };
        }

        return OutcomeQuery.Back(back, outcome);
    }

    /// <summary>Trimmed form text; null for an empty field.</summary>
    public static string? Field(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
