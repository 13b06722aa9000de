// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// Checks the registry's host settings before anything starts and reports every problem at once,
/// each under the key an operator writes (docs/deploy.md).
/// </summary>
public sealed class RegistryServerOptionsValidator : IValidateOptions<RegistryServerOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problems.Add("data must name the registry's data folder");
        }

        if (!string.IsNullOrEmpty(options.Postgres) && StoreDatabase.CheckPostgres(options.Postgres) is { } postgres)
        {
            // The string itself is not repeated: it may hold a password.
            problems.Add($"postgres is not a usable PostgreSQL connection string ({StorageErrors.InvalidConnectionString}): {postgres}");
        }

        ListenSetting.Check(problems, "listen", options.GrpcListen);
        ListenSetting.Check(problems, "httpListen", options.HttpListen);
        options.Console.Check(problems);
        CheckAddress(problems, "publicGrpcAddress", options.PublicGrpcAddress, Uri.UriSchemeHttps);
        CheckAddress(problems, "publicHttpAddress", options.PublicHttpAddress, Uri.UriSchemeHttp);
        DurationSetting.CheckSeconds(problems, "shutdownTimeoutSeconds", options.ShutdownTimeout, 0, 600);
        DurationSetting.CheckSeconds(problems, "refreshCheckSeconds", options.RefreshCheckInterval, 1, 3600);
        DurationSetting.CheckSeconds(problems, "pendingRegistrationMaxAgeSeconds", options.PendingRegistrationMaxAge, 60, 365 * 24 * 3600);
        if (options.AnonymousCallsPerMinute is < 1 or > 1_000_000)
        {
            problems.Add("anonymousCallsPerMinute must be between 1 and 1000000");
        }

        if (options.MaxPendingRegistrations is < 1 or > 100_000)
        {
            problems.Add("maxPendingRegistrations must be between 1 and 100000");
        }

        problems.AddRange(options.Limits.Validate("limits"));
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void CheckAddress(List<string> problems, string key, string? value, string scheme)
    {
        if (value is not null && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == scheme))
        {
            problems.Add($"{key} '{value}' must be a {scheme}://host:port address");
        }
    }
}
