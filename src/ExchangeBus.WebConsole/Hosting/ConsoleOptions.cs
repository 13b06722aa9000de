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

    /// <summary>
    /// Login attempts (each a password hash, PBKDF2) one client address may make a minute
    /// (IPv6 by its /64); the rest are answered 429 before any password is checked.
    /// </summary>
    public int LoginAttemptsPerMinute { get; init; } = 10;

    /// <summary>Login attempts from all addresses together a minute: bounds the work of many addresses at once.</summary>
    public int LoginAttemptsPerMinuteTotal { get; init; } = 60;

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

        if (LoginAttemptsPerMinute is < 1 or > 10_000)
        {
            problems.Add("console.loginAttemptsPerMinute must be 1-10000");
        }

        if (LoginAttemptsPerMinuteTotal is < 1 or > 10_000 || LoginAttemptsPerMinuteTotal < LoginAttemptsPerMinute)
        {
            problems.Add("console.loginAttemptsPerMinuteTotal must be 1-10000 and at least console.loginAttemptsPerMinute");
        }

        DurationSetting.CheckSeconds(problems, "console.lockoutSeconds", LockoutDuration, 1, 7 * 24 * 3600);
        DurationSetting.CheckSeconds(problems, "console.idleTimeoutSeconds", IdleTimeout, 10, 24 * 3600);
    }
}
