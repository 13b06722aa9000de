// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;

namespace ExchangeBus.WebConsole.Hosting;

/// <summary>
/// A component's web console settings (the <c>console</c> section of its settings file). The
/// console is off unless <see cref="Listen"/> is set.
/// </summary>
public sealed record ConsoleOptions
{
    /// <summary>"host:port" of the console's HTTPS listener; null (the default) turns the console off. Loopback is advised.</summary>
    public string? Listen { get; init; }

    /// <summary>Failed logins in a row that lock an account.</summary>
    public int MaxFailedLogins { get; init; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    public TimeSpan LockoutDuration { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary><see cref="LockoutDuration"/> as the settings file gives it.</summary>
    public double LockoutSeconds { get => LockoutDuration.TotalSeconds; init => LockoutDuration = DurationSetting.FromSeconds(value); }

    /// <summary>A session ends after this long without a request.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary><see cref="IdleTimeout"/> as the settings file gives it.</summary>
    public double IdleTimeoutSeconds { get => IdleTimeout.TotalSeconds; init => IdleTimeout = DurationSetting.FromSeconds(value); }

    public bool Enabled => Listen is not null;

    /// <summary>Adds every problem with these settings, each under its key, for the component's validator.</summary>
    public void Check(ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        ListenSetting.Check(problems, "console.listen", Listen);
        if (MaxFailedLogins is < 1 or > 100)
        {
            problems.Add("console.maxFailedLogins must be 1-100");
        }

        DurationSetting.CheckSeconds(problems, "console.lockoutSeconds", LockoutDuration, 1, 7 * 24 * 3600);
        DurationSetting.CheckSeconds(problems, "console.idleTimeoutSeconds", IdleTimeout, 10, 24 * 3600);
    }
}
