// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.AdminAudit;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// The node's admin audit log (admin.db: every console and <c>xbus node</c> action on this node),
/// the page the registry's console has too (<see cref="AdminAuditLogPageModel"/>), for
/// <see cref="NodeConsolePolicies.AdminAuditLog"/> only.
/// </summary>
[Authorize(Policy = NodeConsolePolicies.AdminAuditLog)]
public sealed class NodeAdminAuditModel(AuditedAccountStore log, IAuthorizationService authorization) : AdminAuditLogPageModel(log, authorization)
{
    protected override string VerifyPolicy => NodeConsolePolicies.AdminAuditLog;
}
