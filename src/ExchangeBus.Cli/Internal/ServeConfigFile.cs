// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExchangeBus.Grpc;
using ExchangeBus.Node.MessageLog;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Cli.Internal;

/// <summary>
/// The settings file of <c>xbus registry serve --config</c> and <c>xbus node serve --config</c>
/// (docs/deploy.md lists every key and its default). A key the file does not know is refused,
/// not ignored: a misspelt <c>"production"</c> must not start a node in development mode.
/// A flag given on the command line wins over the file; the file wins over the defaults.
/// </summary>
internal static class ServeConfigFile
{
    public const string ErrorCode = "Config.Invalid";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static Option<string?> Option(string what) => new("--config") { Description = $"A JSON settings file for the {what} (docs/deploy.md); flags given here win over it." };

    /// <summary>Reads and checks a settings file; every problem is named in one <see cref="CliException"/>.</summary>
    public static T Read<T>(string path)
        where T : class, IServeFile =>
        Read<T>(path, file => file.Validate());

    /// <summary>Global configuration parameters for <c>xbus registry init --parameters</c>: the same strict reading, X-Road's defaults for what the file leaves out.</summary>
    public static ConfigurationParameters ReadParameters(string path) =>
        Read<ConfigurationParameters>(path, parameters => parameters.Validate().ToList());

    /// <summary>A duration given in seconds in a file, or the default when the file leaves it out.</summary>
    public static TimeSpan Duration(double? seconds, TimeSpan fallback) => seconds is { } s ? TimeSpan.FromSeconds(s) : fallback;

    private static T Read<T>(string path, Func<T, IReadOnlyList<string>> validate)
        where T : class
    {
        T? file;
        try
        {
            file = JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Options);
        }
        catch (JsonException ex)
        {
            // The parser's message names the key and the line; it never holds a secret (the file has none).
            throw new CliException(ErrorCode, $"{path}: {ex.Message}");
        }

        if (file is null)
        {
            throw new CliException(ErrorCode, $"{path}: the file holds null, not a settings object.");
        }

        var problems = validate(file);
        return problems.Count == 0 ? file : throw new CliException(ErrorCode, $"{path}: {string.Join("; ", problems)}");
    }

    /// <summary>The flag's value if it was given, else the file's, else the flag's default.</summary>
    public static T? Pick<T>(ParseResult parse, Option<T> option, T? fromFile)
        where T : class?
    {
        ArgumentNullException.ThrowIfNull(parse);
        return Given(parse, option) || fromFile is null ? parse.GetValue(option) : fromFile;
    }

    public static bool Pick(ParseResult parse, Option<bool> option, bool? fromFile)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return Given(parse, option) || fromFile is null ? parse.GetValue(option) : fromFile.Value;
    }

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    internal static void Seconds(List<string> problems, string key, double? value, double min, double max)
    {
        if (value is { } v && (double.IsNaN(v) || v < min || v > max))
        {
            problems.Add($"{key} must be between {min} and {max} seconds");
        }
    }
}

internal interface IServeFile
{
    IReadOnlyList<string> Validate();
}

/// <summary><c>xbus registry serve --config FILE</c>.</summary>
internal sealed record RegistryServeFile : IServeFile
{
    public string? Data { get; init; }

    public string? Listen { get; init; }

    public string? HttpListen { get; init; }

    public string? PublicGrpcAddress { get; init; }

    public string? PublicHttpAddress { get; init; }

    public bool? JsonLogs { get; init; }

    public double? ShutdownTimeoutSeconds { get; init; }

    public double? RefreshCheckSeconds { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        ServeConfigFile.Seconds(problems, "shutdownTimeoutSeconds", ShutdownTimeoutSeconds, 0, 600);
        ServeConfigFile.Seconds(problems, "refreshCheckSeconds", RefreshCheckSeconds, 1, 3600);
        return problems;
    }
}

/// <summary><c>xbus node serve --config FILE</c>.</summary>
internal sealed record NodeServeFile : IServeFile
{
    public string? Data { get; init; }

    public string? PeerListen { get; init; }

    /// <summary>ip:port or "off".</summary>
    public string? LocalListen { get; init; }

    public string? LocalTlsListen { get; init; }

    public string? MetricsListen { get; init; }

    public bool? Production { get; init; }

    public bool? JsonLogs { get; init; }

    public double? ShutdownTimeoutSeconds { get; init; }

    public double? SettingsPollSeconds { get; init; }

    public MessageLogFile? MessageLog { get; init; }

    public FilesFile? Files { get; init; }

    public PeerLimitsFile? PeerLimits { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        ServeConfigFile.Seconds(problems, "shutdownTimeoutSeconds", ShutdownTimeoutSeconds, 0, 600);
        ServeConfigFile.Seconds(problems, "settingsPollSeconds", SettingsPollSeconds, 0.1, 3600);
        PeerLimits?.Validate(problems);
        if (Files is { MaxFileBytes: < 1 })
        {
            problems.Add("files.maxFileBytes must be at least 1");
        }

        if (Files is { RetryMilliseconds: < 1 })
        {
            problems.Add("files.retryMilliseconds must be at least 1");
        }

        if (Files is { MaxAttempts: < 1 })
        {
            problems.Add("files.maxAttempts must be at least 1");
        }

        if (Files is { ParallelDeliveries: < 1 })
        {
            problems.Add("files.parallelDeliveries must be at least 1");
        }

        if (Files is { FreeReserveBytes: < 0 })
        {
            problems.Add("files.freeReserveBytes must not be negative");
        }

        if (Files is { StalePartHours: { } hours } && !(hours > 0 && hours <= 24 * 365))
        {
            problems.Add("files.stalePartHours must be more than 0 and at most a year (8760)");
        }

        if (Files is { KeepContentDays: { } days } && !(days > 0 && days <= 36_500))
        {
            problems.Add("files.keepContentDays must be more than 0 and at most 36500");
        }

        if (MessageLog is { } log)
        {
            problems.AddRange(log.Apply(new MessageLogOptions()).Validate().Select(p => "messageLog: " + p));
        }

        return problems;
    }
}

/// <summary>The <c>files</c> section of a node's settings file (file sync).</summary>
internal sealed record FilesFile
{
    public long? MaxFileBytes { get; init; }

    public int? RetryMilliseconds { get; init; }

    public int? MaxAttempts { get; init; }

    public int? ParallelDeliveries { get; init; }

    /// <summary>Free space a file must leave on the file store's disk.</summary>
    public long? FreeReserveBytes { get; init; }

    /// <summary>A pushed file's part not written for this long is deleted.</summary>
    public double? StalePartHours { get; init; }

    /// <summary>Content is removed this long after every file naming it is final (unset: kept).</summary>
    public double? KeepContentDays { get; init; }
}

/// <summary>
/// The <c>peerLimits</c> section of a node's settings file: what the inter-node listener allows
/// one connection (<see cref="ConnectionLimits"/>; docs/reliability.md, "Hostile peers").
/// </summary>
internal sealed record PeerLimitsFile
{
    public double? HandshakeTimeoutSeconds { get; init; }

    public double? KeepAliveTimeoutSeconds { get; init; }

    public double? IdleTimeoutSeconds { get; init; }

    public double? RequestHeadersTimeoutSeconds { get; init; }

    public double? MinRequestBodyBytesPerSecond { get; init; }

    public double? MinRequestBodyGraceSeconds { get; init; }

    public int? MaxStreamsPerConnection { get; init; }

    public ConnectionLimits Apply(ConnectionLimits defaults) => defaults with
    {
        HandshakeTimeout = ServeConfigFile.Duration(HandshakeTimeoutSeconds, defaults.HandshakeTimeout),
        KeepAliveTimeout = ServeConfigFile.Duration(KeepAliveTimeoutSeconds, defaults.KeepAliveTimeout),
        IdleTimeout = ServeConfigFile.Duration(IdleTimeoutSeconds, defaults.IdleTimeout),
        RequestHeadersTimeout = ServeConfigFile.Duration(RequestHeadersTimeoutSeconds, defaults.RequestHeadersTimeout),
        MinRequestBodyBytesPerSecond = MinRequestBodyBytesPerSecond ?? defaults.MinRequestBodyBytesPerSecond,
        MinRequestBodyGracePeriod = ServeConfigFile.Duration(MinRequestBodyGraceSeconds, defaults.MinRequestBodyGracePeriod),
        MaxStreamsPerConnection = MaxStreamsPerConnection ?? defaults.MaxStreamsPerConnection,
    };

    public void Validate(List<string> problems)
    {
        ServeConfigFile.Seconds(problems, "peerLimits.handshakeTimeoutSeconds", HandshakeTimeoutSeconds, 1, 300);
        ServeConfigFile.Seconds(problems, "peerLimits.keepAliveTimeoutSeconds", KeepAliveTimeoutSeconds, 1, 3600);
        ServeConfigFile.Seconds(problems, "peerLimits.idleTimeoutSeconds", IdleTimeoutSeconds, 1, 3600);
        ServeConfigFile.Seconds(problems, "peerLimits.requestHeadersTimeoutSeconds", RequestHeadersTimeoutSeconds, 1, 300);

        // Kestrel checks a body's rate once a second, so a grace period must be longer than that.
        ServeConfigFile.Seconds(problems, "peerLimits.minRequestBodyGraceSeconds", MinRequestBodyGraceSeconds, 2, 300);
        if (MinRequestBodyBytesPerSecond is { } rate && (double.IsNaN(rate) || rate < 1 || rate > 1_000_000_000))
        {
            problems.Add("peerLimits.minRequestBodyBytesPerSecond must be between 1 and 1000000000");
        }

        if (MaxStreamsPerConnection is < 1 or > 10_000)
        {
            problems.Add("peerLimits.maxStreamsPerConnection must be between 1 and 10000");
        }
    }
}

/// <summary>The <c>messageLog</c> section of a node's settings file.</summary>
internal sealed record MessageLogFile
{
    public MessageLogSynchronous? Synchronous { get; init; }

    public int? MaxBatchSize { get; init; }

    public int? QueueCapacity { get; init; }

    public long? MaxBodyBytes { get; init; }

    public MessageLogOptions Apply(MessageLogOptions defaults) => defaults with
    {
        Synchronous = Synchronous ?? defaults.Synchronous,
        MaxBatchSize = MaxBatchSize ?? defaults.MaxBatchSize,
        QueueCapacity = QueueCapacity ?? defaults.QueueCapacity,
        MaxBodyBytes = MaxBodyBytes ?? defaults.MaxBodyBytes,
    };
}
