// SPDX-License-Identifier: Apache-2.0
using System.Globalization;

namespace ExchangeBus.Cli.Internal;

/// <summary>An admin audit entry as <c>xbus registry|node audit-log query</c> prints it: one line, the same for both logs.</summary>
internal static class AdminAuditLines
{
    public static string Line(long sequence, DateTimeOffset at, bool accepted, string action, string actor, string errorCode, string after) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence,6}  {at.ToUniversalTime():u}  {(accepted ? "accepted" : "REFUSED ")}  {action,-24} {actor}  {errorCode}  {after}");
}
