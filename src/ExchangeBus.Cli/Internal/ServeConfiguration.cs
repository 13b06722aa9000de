// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ExchangeBus.Cli.Internal;

/// <summary>
/// The settings of <c>xbus registry serve</c> and <c>xbus node serve</c> (docs/deploy.md,
/// "Settings"): Microsoft.Extensions.Configuration over the JSON file given with <c>--config</c>,
/// then <c>XBUS_</c> environment variables, then the flags given on the command line (each later
/// source wins), bound into the server's options record by the standard binder and checked by the
/// options' validator before anything starts. A key nothing binds is refused, not ignored: a
/// misspelt <c>"production"</c>, in the file or as <c>XBUS_PRODUTION</c>, must not start a node in
/// development mode.
/// </summary>
internal static partial class ServeConfiguration
{
    public const string ErrorCode = "Config.Invalid";

    /// <summary>Environment variables with this prefix are settings; <c>__</c> separates a section from its key.</summary>
    public const string EnvironmentPrefix = "XBUS_";

    /// <summary>The command's own key (its log format), read here and not bound into the server's options.</summary>
    public const string JsonLogs = "JsonLogs";

    public static Option<string?> FileOption(string what) => new("--config")
    {
        Description = $"A JSON settings file for the {what} (docs/deploy.md); XBUS_ environment variables win over it, flags given here over both.",
    };

    /// <summary>The flags the operator gave (not their defaults), as configuration keys.</summary>
    public static Dictionary<string, string?> GivenFlags(ParseResult parse, IEnumerable<(Option Option, string Key)> flags)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var given = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, key) in flags)
        {
            if (parse.GetResult(option) is { Implicit: false } result)
            {
                given[key] = Convert.ToString(result.GetValueOrDefault<object?>(), CultureInfo.InvariantCulture);
            }
        }

        return given;
    }

    /// <summary>The file (if any), the environment, then the flags.</summary>
    /// <exception cref="CliException">The file is missing or not a JSON object.</exception>
    public static ConfigurationRoot Build(string? file, IEnumerable<KeyValuePair<string, string?>> flags)
    {
        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            // Rooted: a relative path would otherwise be looked for next to xbus.dll, not where the operator is.
            builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix).AddInMemoryCollection(flags);
        try
        {
            // ConfigurationBuilder builds a ConfigurationRoot; the concrete type is disposable (its file provider).
            return (ConfigurationRoot)builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or FileNotFoundException)
        {
            // The parser's message names the line and position or the duplicate key, never a value:
            // the file may hold a secret (the registry's postgres connection string and its password).
            var detail = ex.InnerException is { } inner ? $"{ex.Message} {inner.Message}" : ex.Message;
            throw new CliException(ErrorCode, $"{file}: {detail}");
        }
    }

    /// <summary>
    /// Binds <paramref name="configuration"/> over <paramref name="options"/> (which holds the
    /// defaults), lets <paramref name="adjust"/> settle what depends on more than one key, then
    /// validates. Every problem the validator finds is in the one <see cref="CliException"/>.
    /// </summary>
    public static T Bind<T>(IConfiguration configuration, T options, IValidateOptions<T> validator, Func<T, T>? adjust = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(validator);
        try
        {
            WithoutCommandKeys(configuration).Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names a value's key by the path it asked for (Files:MaxAttempts); shown
            // the way docs/deploy.md and the validators write it (files.maxAttempts).
            throw new CliException(ErrorCode, BinderPath().Replace(ex.Message, m => $"at '{DocumentedKey(m.Groups[1].Value)}'"));
        }

        options = adjust?.Invoke(options) ?? options;
        var result = validator.Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        return result.Failed ? throw new CliException(ErrorCode, string.Join("; ", result.Failures)) : options;
    }

    /// <summary>The command's own <see cref="JsonLogs"/> setting.</summary>
    public static bool JsonLogsOf(IConfiguration configuration)
    {
        try
        {
            return configuration.GetValue<bool>(JsonLogs);
        }
        catch (InvalidOperationException ex)
        {
            throw new CliException(ErrorCode, ex.Message);
        }
    }

    /// <summary>The keys the server's options bind: all but the command's own.</summary>
    private static IConfiguration WithoutCommandKeys(IConfiguration configuration) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(configuration.AsEnumerable().Where(setting => !string.Equals(setting.Key, JsonLogs, StringComparison.OrdinalIgnoreCase)))
            .Build();

    private static string DocumentedKey(string path) =>
        string.Join('.', path.Split(':').Select(segment => segment.Length == 0 ? segment : char.ToLowerInvariant(segment[0]) + segment[1..]));

    [GeneratedRegex("at '([^']*)'")]
    private static partial Regex BinderPath();
}
