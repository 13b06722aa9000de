// SPDX-License-Identifier: Apache-2.0
using System.Net;
using ExchangeBus.Grpc;
using ExchangeBus.Node.Files;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Node.Hosting;

/// <summary>
/// Checks a node's host settings before anything starts and reports every problem at once, each
/// under the key an operator writes (docs/deploy.md), so one run of <c>xbus node serve</c> lists
/// all that is wrong with a settings file.
/// </summary>
public sealed class NodeServerOptionsValidator : IValidateOptions<NodeServerOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problems.Add("data must name the node's data folder");
        }

        ListenSetting.Check(problems, "peerListen", options.PeerListen);
        ListenSetting.Check(problems, "localListen", options.LocalListen);
        ListenSetting.Check(problems, "localTlsListen", options.LocalTlsListen);
        ListenSetting.Check(problems, "metricsListen", options.MetricsListen);
        CheckLocalListeners(problems, options);
        options.Console.Check(problems);

        DurationSetting.CheckSeconds(problems, "shutdownTimeoutSeconds", options.ShutdownTimeout, 0, 600);
        DurationSetting.CheckSeconds(problems, "settingsPollSeconds", options.SettingsPollInterval, 0.1, 3600);
        CheckFiles(problems, options.Files);
        problems.AddRange(options.MessageLog.Validate().Select(p => "messageLog: " + p));
        problems.AddRange(options.PeerLimits.Validate("peerLimits"));
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>
    /// Secure by default: the plaintext listener believes whichever subsystem a caller names, so
    /// only a node started with the development switch has one; any other serves its systems
    /// over TLS (each with the certificate node.json registers for it) or does not start.
    /// </summary>
    private static void CheckLocalListeners(List<string> problems, NodeServerOptions options)
    {
        if (options.Development && options.Production)
        {
            problems.Add("development and production cannot both be set: production refuses development certificates and the plaintext local listener.");
        }

        if (options.LocalListen is not null && !options.Development)
        {
            problems.Add("localListen: the plaintext local listener believes any local process that claims a subsystem, so it is for development only: "
                + "start with development: true (--development), or serve the node's systems over TLS only with localTlsListen.");
        }
        else if (options.LocalListen is null && options.LocalTlsListen is null)
        {
            problems.Add("The node needs a local listener for its systems: localTlsListen (TLS, each system with the certificate node.json registers for it), "
                + "or in development (development: true, --development) the plaintext localListen.");
        }

        if (ListenSetting.Parse(options.LocalListen) is { } plaintext && !IPAddress.IsLoopback(plaintext.Address))
        {
            problems.Add("The plaintext local listener must be on a loopback address.");
        }
    }

    private static void CheckFiles(List<string> problems, FileSyncOptions files)
    {
        if (files.MaxFileBytes < 1)
        {
            problems.Add("files.maxFileBytes must be at least 1");
        }

        if (files.ChunkBytes is < FileSyncOptions.MinChunkBytes or > FileSyncOptions.MaxChunkBytes)
        {
            problems.Add($"files.chunkBytes must be {FileSyncOptions.MinChunkBytes}–{FileSyncOptions.MaxChunkBytes}");
        }

        if (files.RetryBaseDelay < TimeSpan.FromMilliseconds(1))
        {
            problems.Add("files.retryMilliseconds must be at least 1");
        }

        if (files.MaxRetryDelay < files.RetryBaseDelay)
        {
            problems.Add("files.maxRetryDelay must be no smaller than the first retry's delay");
        }

        if (files.StalePartSweepInterval <= TimeSpan.Zero || files.StalePartSweepInterval > TimeSpan.FromDays(1))
        {
            problems.Add("files.stalePartSweepInterval must be more than zero and at most a day");
        }

        if (files.MaxAttempts < 1)
        {
            problems.Add("files.maxAttempts must be at least 1");
        }

        if (files.MaxParallelDeliveries < 1)
        {
            problems.Add("files.parallelDeliveries must be at least 1");
        }

        if (files.FreeSpaceReserveBytes < 0)
        {
            problems.Add("files.freeReserveBytes must not be negative");
        }

        if (!(files.StalePartAge > TimeSpan.Zero && files.StalePartAge <= TimeSpan.FromDays(365)))
        {
            problems.Add("files.stalePartHours must be more than 0 and at most a year (8760)");
        }

        if (files.KeepContent is { } keep && !(keep > TimeSpan.Zero && keep <= TimeSpan.FromDays(36_500)))
        {
            problems.Add("files.keepContentDays must be more than 0 and at most 36500");
        }
    }
}
