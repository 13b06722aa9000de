// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Backends;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Exchange;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;

namespace ExchangeBus.Node.Hosting;

/// <summary>The parts of a running node that every exchange uses; built once at start-up.</summary>
public sealed record NodeContext(
    NodeId Node,
    NodeSettingsSource Settings,
    NodeKeys Keys,
    GlobalConfigurationProvider Configuration,
    OwnCertificateStatus OwnStatus,
    EnvelopeVerification Verification,
    PeerChannels Peers,
    BackendInvoker Backends,
    SqliteMessageLog Log,
    TreeHeadStamper Stamper,
    NodeMetrics Metrics,
    TimeProvider TimeProvider);
