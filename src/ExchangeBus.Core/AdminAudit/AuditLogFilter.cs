// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.AdminAudit;

/// <summary>Which admin audit entries to show: each part null (or empty) for any; <see cref="To"/> is exclusive.</summary>
public sealed record AuditLogFilter(string? Actor = null, string? Action = null, bool? Accepted = null, DateTimeOffset? From = null, DateTimeOffset? To = null);
