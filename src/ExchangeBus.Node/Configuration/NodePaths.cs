// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Node.Configuration;

/// <summary>Where a node keeps what it owns, all under one data folder readable by its owner only.</summary>
public sealed record NodePaths(string DataDirectory)
{
    public string Settings => Path.Combine(DataDirectory, "node.json");

    public string Anchor => Path.Combine(DataDirectory, "anchor.json");

    public string Keys => Path.Combine(DataDirectory, "keys");

    public string AuthenticationKey => Path.Combine(Keys, "auth.key.pem");

    public string AuthenticationCertificate => Path.Combine(Keys, "auth.pem");

    public string SigningKey => Path.Combine(Keys, "signing.key.pem");

    public string SigningCertificate => Path.Combine(Keys, "signing.pem");

    /// <summary>The local TLS listener's key (made on first start; an operator may replace both files).</summary>
    public string InternalTlsKey => Path.Combine(Keys, "internal-tls.key.pem");

    public string InternalTlsCertificate => Path.Combine(Keys, "internal-tls.pem");

    /// <summary>The web console's HTTPS key and certificate (self-signed on first start with a console; an operator may replace both files).</summary>
    public string ConsoleTlsKey => Path.Combine(Keys, "console-tls.key.pem");

    public string ConsoleTlsCertificate => Path.Combine(Keys, "console-tls.pem");

    /// <summary>The console's cookie-protection keys, so sessions survive a restart.</summary>
    public string ConsoleKeys => Path.Combine(DataDirectory, "console-keys");

    /// <summary>The web console's accounts and the node's admin audit log (docs/design/console.md).</summary>
    public string AdminDatabase => Path.Combine(DataDirectory, "admin.db");

    public string GlobalConfigurationCache => Path.Combine(DataDirectory, "globalconf.bin");

    public string OcspCache => Path.Combine(DataDirectory, "ocsp");

    public string MessageLog => Path.Combine(DataDirectory, "messagelog.db");

    public string Endpoints => Path.Combine(DataDirectory, "endpoints.json");

    /// <summary>File sync's content-addressed store (docs/design/file-sync.md).</summary>
    public string Files => Path.Combine(DataDirectory, "files");

    public string FilesDatabase => Path.Combine(Files, "files.db");
}
