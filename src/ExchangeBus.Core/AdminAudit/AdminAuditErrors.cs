// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.AdminAudit;

/// <summary>The admin audit log's stable error codes.</summary>
public static class AdminAuditErrors
{
    /// <summary>
    /// The hash chain does not verify: an entry was edited, deleted or reordered after it was
    /// written (<see cref="AdminAuditLog.Verify"/> names the first bad one).
    /// </summary>
    public const string ChainBroken = "AdminAudit.ChainBroken";
}
