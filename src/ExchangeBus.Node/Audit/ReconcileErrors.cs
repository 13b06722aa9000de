// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Audit;

/// <summary>
/// Stable codes of a refused window export or bundle reconciliation (what the comparison finds
/// has its own codes, <see cref="ReconcileFindings"/>; a bundle that does not verify is refused
/// with the verifier's <see cref="EvidenceBundleErrors"/> code).
/// </summary>
public static class ReconcileErrors
{
    /// <summary>The window holds more records than one export or reconciliation reads.</summary>
    public const string WindowTooLarge = "Reconcile.WindowTooLarge";

    /// <summary>The window holds no record of an exchange to export.</summary>
    public const string WindowEmpty = "Reconcile.WindowEmpty";

    /// <summary>The peer named is not a node identifier.</summary>
    public const string InvalidPeer = "Reconcile.InvalidPeer";

    /// <summary>No bundle was sent.</summary>
    public const string BundleMissing = "Reconcile.BundleMissing";

    /// <summary>The bundle is larger than an upload may be.</summary>
    public const string BundleTooLarge = "Reconcile.BundleTooLarge";

    /// <summary>The bundle verifies but is one message's, not a window's: it states no window to reconcile.</summary>
    public const string NotAWindow = "Reconcile.NotAWindowBundle";

    /// <summary>The bundle is this node's own log.</summary>
    public const string SameNode = "Reconcile.SameNode";

    /// <summary>The bundle holds the exchanges of its node with another node than this one.</summary>
    public const string NotForThisNode = "Reconcile.NotForThisNode";
}

/// <summary>A window export or a bundle reconciliation refused, with its stable code.</summary>
public sealed class ReconcileRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
