// SPDX-License-Identifier: Apache-2.0
using System.Net;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// Every problem with a node's start options at once: listeners that do not parse, that would
/// expose the plaintext port or serve no system, and file-sync and message-log limits.
/// </summary>
public sealed class NodeServerOptionsValidator : IValidateOptions<NodeServerOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problems.Add("The node needs a data directory.");
        }

        foreach (var (option, listen) in new[] { (nameof(options.PeerListen), options.PeerListen), (nameof(options.MetricsListen), options.MetricsListen) })
        {
            if (Endpoint(problems, option, listen) is null && listen is null)
            {
                problems.Add($"{option} is required.");
            }
        }

        Endpoint(problems, nameof(options.LocalTlsListen), options.LocalTlsListen);
        var plaintext = Endpoint(problems, nameof(options.LocalListen), options.LocalListen);
        if (options.LocalListen is null && options.LocalTlsListen is null)
        {
            problems.Add("The node needs a local listener for its systems: plaintext (development) or TLS.");
        }

        if (plaintext is not null && !IPAddress.IsLoopback(plaintext.Address))
        {
            problems.Add("The plaintext local listener must be on a loopback address.");
        }

        if (options.Production && options.LocalListen is not null)
        {
            problems.Add("A production node serves its systems over TLS only: turn the plaintext local listener off and set the TLS one.");
        }

        problems.AddRange(options.Files.Validate());
        problems.AddRange(options.MessageLog.Validate());
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>An ip:port the listener binds; null when it is off (or does not parse, which is reported).</summary>
    internal static IPEndPoint? Endpoint(string? listen) => listen is not null && IPEndPoint.TryParse(listen, out var endpoint) ? endpoint : null;

    private static IPEndPoint? Endpoint(List<string> problems, string option, string? listen)
    {
        if (listen is null)
        {
            return null;
        }

        var endpoint = Endpoint(listen);
        if (endpoint is null)
        {
            problems.Add($"{option}: '{listen}' is not an IP address and port.");
        }

        return endpoint;
    }
}
