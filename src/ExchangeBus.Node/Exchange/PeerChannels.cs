// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Grpc;
using Grpc.Net.Client;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.Internal;

namespace ExchangeBus.Node.Exchange;

/// <summary>
/// One long-lived mutual-TLS channel per peer node (a handshake costs far more than a call).
/// The peer must present the exact authentication certificate the global configuration lists
/// for it, chained to a CA the configuration trusts (<see cref="PeerTrustSource"/>).
/// </summary>
public sealed class PeerChannels(NodeKeys keys, PeerTrustSource trust, TimeProvider timeProvider) : IDisposable
{
    private static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public GrpcChannel For(NodeEntry node, GlobalConfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(view);
        var expected = node.AuthCertificateSha256.ToArray();

        // A new certificate or CA set in a newer configuration makes a new channel; a mere
        // re-publication (every few minutes) keeps the connection.
        var authorities = string.Join(",", view.TrustedCertificateAuthorities.Select(c => c.Thumbprint));
        var key = $"{node.Address}|{Convert.ToHexString(expected)}|{authorities}";
        return _channels.GetOrAdd(key, newKey =>
        {
            foreach (var stale in _channels.Keys.Where(k => k.StartsWith(node.Address + "|", StringComparison.Ordinal)))
            {
                if (_channels.TryRemove(stale, out var old))
                {
                    // Calls may still be in flight on it: retire it once they are long done.
                    Task.Delay(RetireAfter, timeProvider).ContinueWith(_ => old.Dispose(), TaskScheduler.Default).Forget();
                }
            }

            return BusChannel.Create(new Uri($"https://{node.Address}"), new BusChannelOptions
            {
                ServerTrust = trust.ServerTrust(view),
                ClientCertificate = keys.Authentication,
                ServerCertificateCheck = PeerTrustSource.IsListedCertificate(node),
                MaxReceiveMessageSize = NodeLimits.MaxMessageBytes,
                MaxSendMessageSize = NodeLimits.MaxMessageBytes,
            });
        });
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
