// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.GlobalConf;
using Grpc.Core;
using Grpc.Net.Client;

namespace ExchangeBus.Node.GlobalConf;

/// <summary>
/// The registry's instances as a node sees them: the anchor's addresses until a configuration
/// names them all (several registry instances on one database, docs/scale-out.md), then the
/// configuration's list. A call goes to the instance that last answered; when that one is
/// unreachable (<see cref="StatusCode.Unavailable"/>: refused, reset, no route;
/// <see cref="StatusCode.DeadlineExceeded"/>; or its connection closed under the call) the next
/// is tried, each once per call. Only reads go through here (configuration polls), which any
/// instance may answer again. Any other
/// answer is the registry's, given back as it is: another instance would say the same. Every
/// channel is made by <see cref="RegistryChannel"/>, so each instance must present the pinned
/// registry certificate, whichever address listed it.
/// </summary>
public sealed class RegistryChannels : IDisposable
{
    private readonly ConfigurationAnchor _anchor;
    private readonly TimeProvider _timeProvider;
    private readonly X509Certificate2? _clientCertificate;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _addresses;
    private string _lastGood;

    /// <exception cref="ConfigurationAnchorException">As <see cref="RegistryChannel.Create(ConfigurationAnchor, TimeProvider, X509Certificate2?)"/>.</exception>
    public RegistryChannels(ConfigurationAnchor anchor, TimeProvider timeProvider, X509Certificate2? clientCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        anchor.EnsureRegistryPinned();
        _anchor = anchor;
        _timeProvider = timeProvider;
        _clientCertificate = clientCertificate;
        _addresses = anchor.RegistryAddresses;
        _lastGood = anchor.RegistryAddress;
    }

    /// <summary>The addresses calls may go to, in the order tried after the last good one.</summary>
    public IReadOnlyList<string> Addresses
    {
        get
        {
            lock (_lock)
            {
                return _addresses;
            }
        }
    }

    /// <summary>The address that answered last (the anchor's until one has).</summary>
    public string LastGood
    {
        get
        {
            lock (_lock)
            {
                return _lastGood;
            }
        }
    }

    /// <summary>
    /// Takes the registry addresses of a verified configuration; the anchor's addresses stay after
    /// them when the configuration does not name them, so a node whose anchor is newer than its
    /// cached configuration still reaches the registry it was given.
    /// </summary>
    public void Learn(IReadOnlyList<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var merged = addresses.Concat(_anchor.RegistryAddresses).Distinct(StringComparer.Ordinal).ToArray();
        lock (_lock)
        {
            _addresses = merged;
        }
    }

    /// <summary>Runs <paramref name="call"/> on the last good instance, then on each other in turn while they are unreachable.</summary>
    /// <exception cref="RpcException">The registry's answer; or, when no instance could be reached, the last instance's failure.</exception>
    public async Task<T> CallAsync<T>(Func<GrpcChannel, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var addresses = Order();
        RpcException? last = null;
        foreach (var address in addresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var answer = await call(Channel(address)).ConfigureAwait(false);
                lock (_lock)
                {
                    _lastGood = address;
                }

                return answer;
            }
            catch (RpcException ex) when (Unreached(ex) && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }
        }

        throw last ?? new RpcException(new Status(StatusCode.Unavailable, "No registry address is known."));
    }

    /// <summary>
    /// No answer from that instance: unreachable, too slow, or its connection closed under the
    /// call (an instance stopping sends GOAWAY; Grpc.Net.Client says INTERNAL, with the HTTP
    /// failure as the cause). The calls made here are reads, so asking the next one is safe.
    /// </summary>
    private static bool Unreached(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        || (ex.StatusCode == StatusCode.Internal && ex.Status.DebugException is HttpRequestException);

    /// <summary>The last good instance first, then the ones after it in the list, round to those before it.</summary>
    private List<string> Order()
    {
        lock (_lock)
        {
            var at = Math.Max(0, _addresses.ToList().IndexOf(_lastGood));
            return [.. _addresses.Skip(at), .. _addresses.Take(at)];
        }
    }

    private GrpcChannel Channel(string address)
    {
        lock (_lock)
        {
            if (!_channels.TryGetValue(address, out var channel))
            {
                channel = RegistryChannel.Create(_anchor, address, _timeProvider, _clientCertificate);
                _channels[address] = channel;
            }

            return channel;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var channel in _channels.Values)
            {
                channel.Dispose();
            }

            _channels.Clear();
        }
    }
}
