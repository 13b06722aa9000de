// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Grpc;
using ExchangeBus.WebConsole.Hosting;

namespace ExchangeBus.Registry.Hosting;

/// <summary>
/// The registry's host settings. <c>xbus registry serve</c> binds them from its settings file,
/// <c>XBUS_</c> environment variables and flags (docs/deploy.md, "Settings"); the keys are the
/// property names, except where an alias (a companion property, some in a named unit) gives the documented key.
/// <see cref="RegistryServerOptionsValidator"/> checks them at start.
/// </summary>
public sealed record RegistryServerOptions
{
    public required string DataDirectory { get; init; }

    /// <summary><see cref="DataDirectory"/> under its settings key, <c>data</c>.</summary>
    // An alias property, not [ConfigurationKeyName]: the binder's ErrorOnUnknownConfiguration
    // checks keys against the properties' own names and would refuse the attribute's name.
    public string Data { get => DataDirectory; init => DataDirectory = value; }

    /// <summary>
    /// A PostgreSQL connection string (<c>Host=…;Database=…;Username=…</c>): the registry keeps its
    /// tables in that database instead of registry.db in <see cref="DataDirectory"/>, which still
    /// holds its keys (docs/deploy.md, "PostgreSQL for the registry"). Unset or empty: SQLite.
    /// </summary>
    public string? Postgres { get; init; }

    /// <summary>gRPC over TLS: configuration, registration, management. "host:port"; port 0 picks one.</summary>
    public string GrpcListen { get; init; } = "127.0.0.1:4400";

    /// <summary><see cref="GrpcListen"/> under its settings key, <c>listen</c>.</summary>
    public string Listen { get => GrpcListen; init => GrpcListen = value; }

    /// <summary>Plain HTTP: RFC 3161 time-stamping at /tsa and RFC 6960 OCSP at /ocsp.</summary>
    public string HttpListen { get; init; } = "127.0.0.1:4401";

    /// <summary>How nodes reach the gRPC listener, if not the bound address (a proxy, a DNS name).</summary>
    public string? PublicGrpcAddress { get; init; }

    public string? PublicHttpAddress { get; init; }

    /// <summary>How often the registry checks whether the configuration needs re-publishing.</summary>
    public TimeSpan RefreshCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><see cref="RefreshCheckInterval"/> as the settings file gives it.</summary>
    public double RefreshCheckSeconds { get => RefreshCheckInterval.TotalSeconds; init => RefreshCheckInterval = DurationSetting.FromSeconds(value); }

    /// <summary>On shutdown (SIGTERM), how long the listeners wait for the calls in flight to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><see cref="ShutdownTimeout"/> as the settings file gives it.</summary>
    public double ShutdownTimeoutSeconds { get => ShutdownTimeout.TotalSeconds; init => ShutdownTimeout = DurationSetting.FromSeconds(value); }

    /// <summary>
    /// Calls from one source address (an IPv6 /64) that anyone can make and that could write:
    /// <c>SubmitRegistration</c>, and management calls without a client certificate. A token
    /// bucket of this many, refilled at this rate; past it the call is answered
    /// RESOURCE_EXHAUSTED <c>Registry.RateLimited</c> before its message is read.
    /// </summary>
    public int AnonymousCallsPerMinute { get; init; } = 30;

    /// <summary>A registration not decided within this age expires (a squatter's request does not wait for an administrator).</summary>
    public TimeSpan PendingRegistrationMaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary><see cref="PendingRegistrationMaxAge"/> as the settings file gives it.</summary>
    public double PendingRegistrationMaxAgeSeconds { get => PendingRegistrationMaxAge.TotalSeconds; init => PendingRegistrationMaxAge = DurationSetting.FromSeconds(value); }

    /// <summary>At most this many registrations pending at once, all nodes together (each holds two CSRs on disk).</summary>
    public int MaxPendingRegistrations { get; init; } = 1000;

    /// <summary>
    /// What one connection may take: handshake, idle, header and body-rate timeouts, calls at
    /// once. The gRPC listener asks for no client certificate (nodes register through it), so
    /// anyone who can connect could otherwise hold a connection open with pings alone.
    /// </summary>
    public ConnectionLimits Limits { get; init; } = new();

    /// <summary>The central authority's web console (docs/registry.md, "Console"): off unless <c>console.listen</c> is set.</summary>
    public ConsoleOptions Console { get; init; } = new();

    /// <summary>
    /// The generated ToString's members with <see cref="Postgres"/> redacted: the connection
    /// string may hold a password, and options end up in logs and assertion messages.
    /// </summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        var separator = string.Empty;
        foreach (var property in typeof(RegistryServerOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            var value = property.Name == nameof(Postgres)
                ? string.IsNullOrEmpty(Postgres) ? Postgres : "(redacted)"
                : property.GetValue(this);
            builder.Append(separator).Append(property.Name).Append(" = ").Append(value);
            separator = ", ";
        }

        return true;
    }
}
