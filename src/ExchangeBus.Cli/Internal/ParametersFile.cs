// SPDX-License-Identifier: Apache-2.0
using System.Text.Json;
using System.Text.Json.Serialization;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Cli.Internal;

/// <summary>
/// The global configuration parameters of <c>xbus registry init --parameters FILE</c>. Not a host
/// setting (they are written into the registry's database once and published to every node), so
/// not read through the serve commands' configuration: one strict JSON read, a key the file does
/// not know refused, X-Road's defaults for what it leaves out.
/// </summary>
internal static class ParametersFile
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <exception cref="CliException">The file is not valid JSON, names an unknown key, or its values are refused; every problem is named.</exception>
    public static ConfigurationParameters Read(string path)
    {
        ConfigurationParameters? parameters;
        try
        {
            parameters = JsonSerializer.Deserialize<ConfigurationParameters>(File.ReadAllBytes(path), Options);
        }
        catch (JsonException ex)
        {
            // The parser's message names the key and the line; it never holds a secret (the file has none).
            throw new CliException(ServeConfiguration.ErrorCode, $"{path}: {ex.Message}");
        }

        if (parameters is null)
        {
            throw new CliException(ServeConfiguration.ErrorCode, $"{path}: the file holds null, not a parameters object.");
        }

        var problems = parameters.Validate().ToList();
        return problems.Count == 0 ? parameters : throw new CliException(ServeConfiguration.ErrorCode, $"{path}: {string.Join("; ", problems)}");
    }
}
