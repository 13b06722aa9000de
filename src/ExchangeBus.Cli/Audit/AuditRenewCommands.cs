// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ExchangeBus.Audit;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Core;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TrustServices;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Configuration;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit renew</c>: a renewal time-stamp for evidence bundles and archives before their
/// TSA certificate (or hash algorithm) ages out (docs/audit.md, "Renewing evidence").
/// </summary>
internal static class AuditRenewCommands
{
    private static readonly TimeSpan TsaTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "Evidence bundles (from `xbus audit export`) and archives (from `xbus audit archive`).", Arity = ArgumentArity.OneOrMore };
        var tsaUrl = new Option<string?>("--tsa-url") { Description = "The registry's time-stamping address, http://host:port/tsa (the global configuration lists it)." };
        var data = new Option<string?>("--data") { Description = "A node's data folder, instead of --tsa-url: the TSAs of its cached global configuration, verified against --anchor." };
        var hash = new Option<string>("--hash") { Description = "The renewal's imprint hash: sha256 (default), or sha384 / sha512 once SHA-256 is deprecated.", DefaultValueFactory = _ => "sha256" };
        hash.AcceptOnlyFromAmong("sha256", "sha384", "sha512");
        var command = new Command("renew", "Add a renewal time-stamp over each file's evidence and every earlier token: bundles are rewritten in place, archives get ARCHIVE.renewal-K.tst beside them (their bytes, and the chain of archives, stay as they are).")
        {
            files, tsaUrl, data, hash,
        };
        AuditorConnection.AddTrustOptions(command);
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var roots = AuditorConnection.Roots(parse);
            try
            {
                var addresses = TsaAddresses(parse, parse.GetValue(tsaUrl), parse.GetValue(data));
                using var http = new HttpClient { Timeout = TsaTimeout };
                var stamp = Stamper(http, addresses, roots, Algorithm(parse.GetValue(hash)!));
                var results = new List<Renewed>();
                foreach (var path in parse.GetValue(files)!)
                {
                    results.Add(await RenewAsync(path, roots, stamp, cancellationToken).ConfigureAwait(false));
                }

                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(AuditorConnection.JsonOption))
                {
                    output.WriteLine(JsonSerializer.Serialize(results.Select(r => new
                    {
                        file = r.File,
                        sha256 = r.Sha256,
                        stamps = r.Stamps.Select(s => new { file = s.File, time_stamped_at = s.GenTime.ToString("O", CultureInfo.InvariantCulture) }),
                    })));
                    return;
                }

                foreach (var result in results)
                {
                    foreach (var (file, at) in result.Stamps)
                    {
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"renewed {result.File}: {file} time-stamped {at:O}"));
                    }

                    if (result.Sha256 is not null)
                    {
                        output.WriteLine($"  sha256 {result.Sha256}");
                    }
                }
            }
            finally
            {
                AuditorConnection.DisposeAll(roots);
            }
        }));
        return command;
    }

    /// <summary>
    /// <c>xbus audit archive --renew-within DAYS</c>: renews each archive in <paramref name="folder"/>
    /// whose last TSA certificate expires within <paramref name="within"/>, at the TSAs of the node's
    /// cached global configuration, trusting the roots of the node's anchor. An archive already past
    /// renewing is not an error here (the archiving goes on): it is a warning.
    /// </summary>
    internal static async Task<(List<Renewed> Renewed, List<string> Warnings)> RenewDueArchivesAsync(
        NodePaths node, string folder, TimeSpan within, CancellationToken cancellationToken)
    {
        var renewed = new List<Renewed>();
        var warnings = new List<string>();
        var archives = Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "archive-*.zip").Order(StringComparer.Ordinal).ToList() : [];
        if (archives.Count == 0)
        {
            return (renewed, warnings);
        }

        X509Certificate2[] roots;
        try
        {
            roots = [.. ConfigurationAnchor.Read(node.Anchor).RegistryTlsTrustRoots.Select(c => X509CertificateLoader.LoadCertificate(c.RawData))];
        }
        catch (ConfigurationAnchorException ex)
        {
            throw new CliException(ex.Code, ex.Message);
        }

        try
        {
            using var http = new HttpClient { Timeout = TsaTimeout };
            var stamp = Stamper(http, ConfiguredTsas(node.DataDirectory, null), roots, HashAlgorithmName.SHA256);
            var now = TimeProvider.System.GetUtcNow();
            foreach (var archive in archives)
            {
                var last = LogArchiver.Verify(archive, null, roots, TimeProvider.System).LastStamp;
                if (last is null || last.TsaNotAfter - now > within)
                {
                    continue;
                }

                if (last.TsaNotAfter < now)
                {
                    warnings.Add(EvidenceRenewal.Warning(Path.GetFileName(archive), last, now)!);
                    continue;
                }

                renewed.Add(await RenewAsync(archive, roots, stamp, cancellationToken).ConfigureAwait(false));
            }

            return (renewed, warnings);
        }
        finally
        {
            AuditorConnection.DisposeAll(roots);
        }
    }

    /// <summary>One file renewed: its new stamps and, for a bundle (rewritten), its new SHA-256.</summary>
    internal sealed record Renewed(string File, IReadOnlyList<(string File, DateTimeOffset GenTime)> Stamps, string? Sha256);

    private static async Task<Renewed> RenewAsync(string path, X509Certificate2[] roots, TimeStamper stamp, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new PkiException(PkiErrors.FileNotFound, $"{path} does not exist.");
        }

        var full = Path.GetFullPath(path);
        if (IsBundle(full))
        {
            var bundle = await File.ReadAllBytesAsync(full, cancellationToken).ConfigureAwait(false);
            var renewed = await EvidenceBundleRenewal.RenewAsync(bundle, roots, stamp, TimeProvider.System, cancellationToken).ConfigureAwait(false);

            // Owner-only, as export writes it: a bundle holds bodies, personal data.
            AtomicFile.WriteOwnerOnly(full, renewed.Bundle);
            return new Renewed(full, renewed.Stamps, Convert.ToHexStringLower(SHA256.HashData(renewed.Bundle)));
        }

        var (token, genTime) = await LogArchiveRenewal.RenewAsync(full, roots, stamp, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        return new Renewed(full, [(Path.GetFileName(token), genTime)], null);
    }

    /// <summary>A bundle's manifest names its format; anything else is taken for an archive, whose checks say if it is not one.</summary>
    private static bool IsBundle(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var manifest = zip.GetEntry(EvidenceBundle.ManifestFile);
            if (manifest is null || manifest.Length > 16 * 1024 * 1024)
            {
                return false;
            }

            using var stream = manifest.Open();
            using var json = JsonDocument.Parse(stream);
            return json.RootElement.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String
                && string.Equals(format.GetString(), EvidenceBundle.Format, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is InvalidDataException or JsonException)
        {
            return false;
        }
    }

    private static List<Uri> TsaAddresses(ParseResult parse, string? url, string? data)
    {
        if ((url is null) == (data is null))
        {
            throw new CliException("Cli.InvalidArguments", "Give exactly one of --tsa-url URL and --data NODE_FOLDER.");
        }

        if (url is not null)
        {
            return Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                ? [uri]
                : throw new CliException("Cli.InvalidArguments", $"--tsa-url takes http://host:port/tsa, not '{url}'.");
        }

        return ConfiguredTsas(data!, parse.GetValue(AuditorConnection.AnchorOption));
    }

    /// <summary>The TSAs of the configuration the node cached, verified against the anchor given (or the node's own).</summary>
    private static List<Uri> ConfiguredTsas(string dataFolder, string? anchor)
    {
        using var trust = LogVerifierTrust.Load(dataFolder, anchor);
        return trust.TimeStampingUrls.Count > 0
            ? [.. trust.TimeStampingUrls]
            : throw new CliException("Cli.InvalidArguments", $"The global configuration in {dataFolder} lists no time-stamping authority.");
    }

    /// <summary>Each TSA in turn until one gives a valid token, as the node's stamper does.</summary>
    private static TimeStamper Stamper(HttpClient http, List<Uri> addresses, X509Certificate2[] roots, HashAlgorithmName algorithm) => async (bytes, cancellationToken) =>
    {
        using var verifier = new TimeStampTokenVerifier([], roots, TimeProvider.System);
        TimeStampVerificationResult? failed = null;
        Exception? unreachable = null;
        foreach (var address in addresses)
        {
            try
            {
                var result = await new TimeStampClient(http, address, verifier).RequestForDataAsync(bytes, algorithm, cancellationToken).ConfigureAwait(false);
                if (result.IsValid)
                {
                    return result;
                }

                failed = result;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                unreachable = ex;
            }
        }

        return failed ?? throw new CliException("Audit.TimeStampingAuthorityUnreachable", $"No time-stamping authority answered ({unreachable?.Message}).");
    };

    private static HashAlgorithmName Algorithm(string name) => name switch
    {
        "sha384" => HashAlgorithmName.SHA384,
        "sha512" => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };
}
