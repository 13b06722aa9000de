// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.AdminAudit;
using Microsoft.AspNetCore.Authorization;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>Verifies the node's admin audit log (<see cref="AdminAuditVerifyPageModel"/>), for those who may read it.</summary>
[Authorize(Policy = NodeConsolePolicies.AdminAuditLog)]
public sealed class NodeAdminAuditVerifyModel(AuditedAccountStore log) : AdminAuditVerifyPageModel(log);
