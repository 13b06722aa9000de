// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.GlobalConf;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Node.Trust;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBus.Node.WebConsole.Pages;

/// <summary>
/// What an operator looks at first: is the node ready, the configuration it acts on, what the
/// CA last said of its signing certificate, and whether its message log is written and time-stamped.
/// </summary>
public sealed class StatusModel(
    NodeId node, GlobalConfigurationProvider configuration, ConfigurationInDate ready, OwnCertificateStatus ownStatus,
    SqliteMessageLog log, TimeProvider time) : PageModel
{
    public NodeId Node => node;

    public bool Ready { get; private set; }

    public GlobalConfigurationView? Configuration { get; private set; }

    public (OcspCertificateStatus Status, DateTimeOffset ThisUpdate)? Ocsp { get; private set; }

    /// <summary>The answer is older than the configuration's freshness limit: signing is refused until a new one comes.</summary>
    public bool OcspStale { get; private set; }

    public long Records { get; private set; }

    public int Waiting { get; private set; }

    public StoredTreeHead? LastTreeHead { get; private set; }

    public void OnGet()
    {
        Ready = ready.IsReady;
        Configuration = configuration.Latest;
        Ocsp = ownStatus.Latest;
        var freshness = Configuration?.Parameters.OcspFreshness ?? OcspVerifierOptions.DefaultFreshnessLimit;
        OcspStale = Ocsp is { } answer && time.GetUtcNow() - answer.ThisUpdate > freshness;
        Records = log.LastSequence();
        Waiting = log.QueueDepth;
        LastTreeHead = log.Reader.LatestTreeHead();
    }
}
