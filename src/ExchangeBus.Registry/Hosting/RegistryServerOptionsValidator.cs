// SPDX-License-Identifier: Apache-2.0
using System.Net;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>Every problem with a registry's start options at once.</summary>
public sealed class RegistryServerOptionsValidator : IValidateOptions<RegistryServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problems.Add("The registry needs a data directory.");
        }

        foreach (var (option, listen) in new[] { (nameof(options.GrpcListen), options.GrpcListen), (nameof(options.HttpListen), options.HttpListen) })
        {
            if (Endpoint(listen) is null)
            {
                problems.Add($"{option}: '{listen}' is not an IP address and port (e.g. 127.0.0.1:4400).");
            }
        }

        if (options.RefreshCheckInterval <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(options.RefreshCheckInterval)} must be positive.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    internal static IPEndPoint? Endpoint(string? listen) => listen is not null && IPEndPoint.TryParse(listen, out var endpoint) ? endpoint : null;
}
