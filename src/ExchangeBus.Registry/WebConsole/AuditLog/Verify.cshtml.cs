// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.AdminAudit;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.Registry.WebConsole.Pages;

/// <summary>Verifies the registry's admin audit log (<see cref="AdminAuditVerifyPageModel"/>): auditors, security officers, system administrators.</summary>
[Authorize(Policy = RegistryConsolePolicies.VerifyAuditLog)]
public sealed class VerifyAuditLogModel(AuditedAccountStore log) : AdminAuditVerifyPageModel(log);
