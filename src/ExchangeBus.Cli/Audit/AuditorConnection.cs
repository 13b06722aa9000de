// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Core;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// What an auditor's commands share: the roots they trust (a root certificate file or the
/// configuration anchor) and, for the remote ones, a mutual TLS channel to a node's peer
/// listener with the auditor's registry-issued certificate.
/// </summary>
internal static class AuditorConnection
{
    public static readonly Option<string?> TrustRootOption = new("--trust-root") { Description = "The bus root CA certificate(s), PEM: what certificates, tokens and the node's TLS must chain to." };
    public static readonly Option<string?> AnchorOption = new("--anchor") { Description = "The configuration anchor (anchor.json), instead of --trust-root: its roots are trusted." };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print the answer as JSON, for scripts." };

    public static readonly Option<string> NodeOption = new("--node") { Description = "The node's peer (inter-node) address, https://host:port.", Required = true };
    public static readonly Option<string> AuditorOption = new("--auditor")
    {
        Description = $"The auditor's folder: {AuditorKeyCommands.CertificateFile} and {AuditorKeyCommands.KeyFile} (see `xbus audit keygen`).",
        Required = true,
    };

    public static void AddTrustOptions(Command command)
    {
        command.Options.Add(TrustRootOption);
        command.Options.Add(AnchorOption);
        command.Options.Add(JsonOption);
    }

    public static void AddRemoteOptions(Command command)
    {
        command.Options.Add(NodeOption);
        command.Options.Add(AuditorOption);
        AddTrustOptions(command);
    }

    /// <summary>The trusted roots; the caller disposes them.</summary>
    public static X509Certificate2[] Roots(ParseResult parse)
    {
        var rootPath = parse.GetValue(TrustRootOption);
        var anchorPath = parse.GetValue(AnchorOption);
        if ((rootPath is null) == (anchorPath is null))
        {
            // Never the bundle's own root.pem: evidence that names its own trust proves nothing.
            throw new CliException("Cli.InvalidArguments", "Give exactly one of --trust-root root.pem and --anchor anchor.json.");
        }

        if (anchorPath is not null)
        {
            try
            {
                return [.. ConfigurationAnchor.Read(anchorPath).RegistryTlsTrustRoots.Select(c => X509CertificateLoader.LoadCertificate(c.RawData))];
            }
            catch (ConfigurationAnchorException ex)
            {
                throw new CliException(ex.Code, ex.Message);
            }
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(rootPath!);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new PkiException(PkiErrors.CertificateMalformed, $"{rootPath}: {ex.Message}");
        }

        return roots.Count > 0 ? [.. roots] : throw new PkiException(PkiErrors.CertificateMalformed, $"{rootPath} holds no PEM certificate.");
    }

    /// <summary>A channel to the node, authenticated with the auditor's certificate; the caller disposes both.</summary>
    public static (GrpcChannel Channel, X509Certificate2 Certificate) Open(ParseResult parse, IReadOnlyList<X509Certificate2> roots) =>
        Open(parse, roots, parse.GetValue(NodeOption)!);

    /// <summary>A channel to the node at <paramref name="address"/> (commands that reach several nodes).</summary>
    public static (GrpcChannel Channel, X509Certificate2 Certificate) Open(ParseResult parse, IReadOnlyList<X509Certificate2> roots, string address)
    {
        var folder = parse.GetValue(AuditorOption)!;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || !string.Equals(uri.Scheme, Uri.UriSchemeHttps, StringComparison.Ordinal))
        {
            throw new CliException("Cli.InvalidArguments", $"--node takes the node's peer address as https://host:port, not '{address}'.");
        }

        using var certificate = PemFiles.ReadCertificate(Path.Combine(folder, AuditorKeyCommands.CertificateFile));
        using var key = PemFiles.ReadPrivateKey(Path.Combine(folder, AuditorKeyCommands.KeyFile));
        var withKey = certificate.CopyWithPrivateKey(key);
        var channel = BusChannel.Create(uri, new BusChannelOptions
        {
            ServerTrust = new CertificateTrust(roots, TimeProvider.System),
            ClientCertificate = withKey,
        });
        return (channel, withKey);
    }

    public static CallOptions Call(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);

    public static void DisposeAll(IEnumerable<X509Certificate2> certificates)
    {
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }
}
