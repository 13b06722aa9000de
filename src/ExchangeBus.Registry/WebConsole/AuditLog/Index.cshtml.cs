// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.AdminAudit;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>
/// The central authority's admin audit log (registry.db), the page every console shares
/// (<see cref="AdminAuditLogPageModel"/>): any signed-in account reads it, as every registry
/// page; the verify button is for <see cref="RegistryConsolePolicies.VerifyAuditLog"/>.
/// </summary>
public sealed class AuditLogModel(AuditedAccountStore log, IAuthorizationService authorization) : AdminAuditLogPageModel(log, authorization)
{
    protected override string VerifyPolicy => RegistryConsolePolicies.VerifyAuditLog;
}
