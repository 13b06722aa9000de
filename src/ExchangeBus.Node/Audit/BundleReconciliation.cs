// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

/// <summary>What reconciling this node's log with another node's window bundle gave.</summary>
public sealed record BundleReconcileResult(string ThisNode, string OtherNode, BundleWindow Window, int BundleRecords, int OwnRecords, ReconcileReport Report);

/// <summary>
/// Reconciles this node's log with a window's evidence bundle of another node, without any key:
/// the bundle proves itself (every record signed by its sender and in a tree head the other node
/// signed and a TSA stamped), checked by <see cref="EvidenceBundleVerifier"/> exactly as
/// <c>xbus audit verify-bundle</c> checks it, against this node's trust roots; then the
/// bundle's records and this node's own over the bundle's window go through the same
/// <see cref="Reconciliation.Compare"/> as <c>xbus audit reconcile</c>.
/// </summary>
public static class BundleReconciliation
{
    /// <exception cref="ReconcileRefusedException">The bundle does not verify (its <see cref="EvidenceBundleErrors"/> code), is not a window's, or not for this node; or this node's window is too large.</exception>
    public static BundleReconcileResult Reconcile(
        Stream bundle, NodeId self, MessageLogReader reader, IReadOnlyList<X509Certificate2> trustedRoots, TimeProvider timeProvider, int maxRecords)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(self);
        var verification = new EvidenceBundleVerifier(trustedRoots, timeProvider).Verify(bundle);
        if (!verification.IsValid)
        {
            throw new ReconcileRefusedException(verification.Code!, $"The bundle does not verify: {verification.Problems[0]}");
        }

        var thisNode = self.ToString();
        var otherNode = verification.Node!;
        if (verification.Window is not { } window)
        {
            throw new ReconcileRefusedException(ReconcileErrors.NotAWindow, $"The bundle holds message {verification.MessageId}, not a window of node {otherNode}'s log.");
        }

        if (string.Equals(otherNode, thisNode, StringComparison.Ordinal))
        {
            throw new ReconcileRefusedException(ReconcileErrors.SameNode, "The bundle is this node's own log: reconcile it on the other node.");
        }

        if (window.Peer is { } peer && !string.Equals(peer, thisNode, StringComparison.Ordinal))
        {
            throw new ReconcileRefusedException(ReconcileErrors.NotForThisNode, $"The bundle holds node {otherNode}'s exchanges with {peer}, not with this node ({thisNode}).");
        }

        var own = LogWindow.Read(reader, window with { Peer = otherNode }, maxRecords);
        var report = Reconciliation.Compare(thisNode, LogWindow.Summaries(own), otherNode, verification.Summaries, window.From, window.To);
        return new BundleReconcileResult(thisNode, otherNode, window, verification.Records.Count, own.Count, report);
    }
}
