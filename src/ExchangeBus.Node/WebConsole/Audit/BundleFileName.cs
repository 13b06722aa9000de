// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.WebConsole.Audit;

/// <summary>
/// A bundle download's file name part from text the auditor chose or the log holds (a message id,
/// a node id): ASCII letters, digits, '-' and '_' kept, anything else '_', so no path or header
/// character reaches Content-Disposition.
/// </summary>
internal static class BundleFileName
{
    public static string Of(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
}
