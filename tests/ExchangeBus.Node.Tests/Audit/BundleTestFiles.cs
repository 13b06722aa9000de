// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Audit;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Tests.Cli;
using ExchangeBus.Node.Tests.Exchange;
using ExchangeBus.Registry.Tests.TrustServices;
using Google.Protobuf;
using Grpc.Net.Client;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>What the bundle, archive and renewal tests share: reading a zip, and moving openssl's clock.</summary>
internal static class BundleTestFiles
{
    /// <summary>Every entry of a zip, by name.</summary>
    public static SortedDictionary<string, byte[]> Unzip(byte[] zip)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var archive = new ZipArchive(new MemoryStream(zip, writable: false), ZipArchiveMode.Read);
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            files[entry.FullName] = buffer.ToArray();
        }

        return files;
    }

    /// <summary>
    /// An auditor folder as `xbus audit keygen` makes it, with the certificate the registry issued
    /// for the provider's member, and the bus root as a file: what the xbus processes' --auditor and --trust-root take.
    /// </summary>
    public static async Task<(string Auditor, string Root)> AuditorFolderAsync(BusFixture bus, string work)
    {
        var auditor = Path.Combine(work, "auditor");
        var keygen = await XbusProcess.RunAsync("audit", "keygen", "--out", auditor, "--name", "Nguyễn Văn An");
        Assert.That(keygen.Exit, Is.Zero, keygen.ToString());
        using (var admin = bus.AdminChannel())
        {
            var csr = CertificateSigningRequests.ReadFile(Path.Combine(auditor, "auditor.csr.pem"));
            var issued = await new RegistryManagement.RegistryManagementClient(admin).IssueAuditorCertificateAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFrom(csr.Csr!.Der.Span), Member = BusFixture.Provider, Name = "Nguyễn Văn An" }).ResponseAsync;
            using var certificate = X509CertificateLoader.LoadCertificate(issued.Certificate.Span);
            PemFiles.WriteCertificate(Path.Combine(auditor, "auditor.pem"), certificate);
        }

        var root = Path.Combine(work, "root.pem");
        await File.WriteAllTextAsync(root, bus.Registry.Keys.RootCertificate.ExportCertificatePem());
        return (auditor, root);
    }

    /// <summary>The audit API of <paramref name="node"/>, called as <paramref name="auditor"/>.</summary>
    public static GrpcChannel AuditChannel(BusFixture bus, NodeServer node, X509Certificate2 auditor) => BusChannel.Create(new Uri("https://" + node.PeerAddress), new BusChannelOptions
    {
        ServerTrust = new CertificateTrust([bus.Registry.Keys.RootCertificate], TimeProvider.System),
        ClientCertificate = auditor,
    });

    /// <summary>The bundle of every record of the message on <paramref name="node"/>, as `xbus audit export --message-id` fetches them.</summary>
    public static async Task<byte[]> ExportAsync(BusFixture bus, NodeServer node, X509Certificate2 auditor, string messageId)
    {
        using var channel = AuditChannel(bus, node, auditor);
        var client = new AuditService.AuditServiceClient(channel);
        var page = await client.QueryAsync(new QueryRequest { MessageId = messageId }).ResponseAsync;
        var records = new List<RecordEvidence>();
        foreach (var summary in page.Records)
        {
            records.Add(await client.GetRecordAsync(new GetRecordRequest { Sequence = summary.Sequence }).ResponseAsync);
        }

        return EvidenceBundle.Build(records, [bus.Registry.Keys.RootCertificate]);
    }

    /// <summary>A zip of <paramref name="files"/>, as someone who edited a bundle would make it.</summary>
    public static byte[] Zip(SortedDictionary<string, byte[]> files)
    {
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(content);
            }
        }

        return output.ToArray();
    }

    /// <summary>manifest.json rewritten to list the files as they are now: the manifest is not signed, so anyone can.</summary>
    public static void RewriteManifest(SortedDictionary<string, byte[]> files)
    {
        var manifest = JsonNode.Parse(files["manifest.json"])!;
        var digests = new JsonObject();
        foreach (var (name, content) in files.Where(f => f.Key != "manifest.json"))
        {
            digests[name] = Convert.ToHexStringLower(SHA256.HashData(content));
        }

        manifest["sha256"] = digests;
        files["manifest.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    /// <summary>
    /// <paramref name="command"/> run by sh in <paramref name="folder"/> with the clock moved by
    /// libfaketime (<paramref name="ahead"/>, e.g. "+3y"; the Debian package faketime, which test.sh
    /// installs): a machine without it fails these tests, never skips them.
    /// </summary>
    public static async Task<OpenSslResult> FaketimeAsync(string folder, string ahead, string command)
    {
        var present = await OpenSsl.ShellAsync(folder, "command -v faketime");
        Assert.That(present.ExitCode, Is.Zero, "faketime is not installed (apt-get install faketime; test.sh installs it)");
        return await OpenSsl.ShellAsync(folder, $"faketime -f '{ahead}' sh -c '{command}'");
    }
}
