// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Configuration;
using Grpc.Core;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// Deny by default: a client may call a service only if a rule allows its subsystem, its
/// member (all of the member's subsystems), or a global group it (or its member) belongs to.
/// </summary>
public static class AccessControl
{
    /// <summary>
    /// Refuses a client, or a file's sender, that the configuration does not list: the registry
    /// leaves disabled members and subsystems out of it, and a disabled subsystem's member still
    /// has a valid key and a listed node, so the signature and the TLS peer alone let it through.
    /// Both the exchange and the file receiver call this before anything is logged or stored.
    /// </summary>
    public static void EnsureListed(ClientId client, GlobalConfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(view);
        if (!view.ClientExists(client))
        {
            throw new NodeException(StatusCode.PermissionDenied, NodeErrors.ProviderUnknownClient, $"{client} is not in the global configuration (unknown or disabled).");
        }
    }

    public static bool IsAllowed(IEnumerable<AccessRule> rules, ServiceId service, ClientId client, GlobalConfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(view);
        var serviceText = service.ToString();
        var member = ClientId.FromMemberId(client.Member);
        foreach (var rule in rules)
        {
            if (!string.Equals(rule.Service, serviceText, StringComparison.Ordinal) || !AccessRule.TryParseSubject(rule.Subject, out var subject))
            {
                continue;
            }

            var allowed = subject switch
            {
                ClientId c => c == client || (!c.IsSubsystem && c.Member == client.Member),
                GlobalGroupId g => view.IsInGlobalGroup(g, client) || view.IsInGlobalGroup(g, member),
                _ => false,
            };
            if (allowed)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The services of <paramref name="provider"/> this node offers that <paramref name="client"/> may call.</summary>
    public static IEnumerable<string> AllowedServices(NodeSettings settings, SubsystemId provider, ClientId client, GlobalConfigurationView view) =>
        settings.Services
            .Select(s => ServiceId.Parse(s.Service))
            .Where(s => s.Subsystem == provider && IsAllowed(settings.AccessRules, s, client, view))
            .Select(s => s.ToString());
}
