// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Audit;

/// <summary>
/// The window of a window's evidence bundle: the exchanges that began at or after
/// <see cref="From"/> and before <see cref="To"/>, with the node <see cref="Peer"/> (null: with
/// any node). The exporter states it in the manifest; it is not signed, and need not be: a record
/// left out of the window shows as missing when the bundle is reconciled, and every record in it
/// is proven by its signature and its tree head.
/// </summary>
public sealed record BundleWindow(DateTimeOffset From, DateTimeOffset To, string? Peer);
