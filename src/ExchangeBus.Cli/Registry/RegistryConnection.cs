// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Text.Json;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Core.Pki;
using Grpc.Net.Client;
using ExchangeBus.Registry.Hosting;
using ExchangeBus.Registry.Management;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Cli.Registry;

/// <summary>
/// How a management command reaches the registry: by default everything comes from the
/// registry's data folder (its address from endpoints.json, the administrator certificate, the
/// root and the registry's own TLS certificate, which is pinned, from keys/); each can be given
/// on its own for an operator on another machine.
/// </summary>
internal sealed class RegistryConnection
{
    public static readonly Option<string?> DataOption = new("--data") { Description = "The registry's data folder (default: ./registry-data)." };
    public static readonly Option<string?> RegistryOption = new("--registry") { Description = "Registry gRPC address, https://host:port (default: from the data folder)." };
    public static readonly Option<string?> AdminCertOption = new("--admin-cert") { Description = "Administrator certificate PEM (default: DATA/keys/admin.pem)." };
    public static readonly Option<string?> AdminKeyOption = new("--admin-key") { Description = "Administrator private key PEM (default: DATA/keys/admin.key.pem)." };
    public static readonly Option<string?> TrustOption = new("--trust-root") { Description = "Root certificate the registry's TLS certificate chains to (default: DATA/keys/root-ca.pem)." };
    public static readonly Option<string?> RegistryCertOption = new("--registry-cert") { Description = "The registry's own TLS certificate, pinned (default: DATA/keys/registry-tls.pem; the anchor's registryTlsCertificates hold the same)." };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print the answer as JSON, for scripts." };

    public const string DefaultDataDirectory = "registry-data";

    public static void AddOptions(Command command)
    {
        command.Options.Add(DataOption);
        command.Options.Add(RegistryOption);
        command.Options.Add(AdminCertOption);
        command.Options.Add(AdminKeyOption);
        command.Options.Add(TrustOption);
        command.Options.Add(RegistryCertOption);
        command.Options.Add(JsonOption);
    }

    public static GrpcChannel Open(ParseResult parse)
    {
        var data = parse.GetValue(DataOption) ?? DefaultDataDirectory;
        var keys = Path.Combine(data, RegistryKeys.Folder);
        var address = parse.GetValue(RegistryOption) ?? ReadEndpoints(data).Grpc;
        var certificatePath = parse.GetValue(AdminCertOption) ?? Path.Combine(keys, DevelopmentPki.AdministratorCertificateFile);
        var keyPath = parse.GetValue(AdminKeyOption) ?? Path.Combine(keys, DevelopmentPki.AdministratorKeyFile);
        var rootPath = parse.GetValue(TrustOption) ?? Path.Combine(keys, DevelopmentPki.RootCertificateFile);
        var registryPath = parse.GetValue(RegistryCertOption) ?? Path.Combine(keys, DevelopmentPki.RegistryTlsCertificateFile);
        return AdministratorChannel.Open(address, certificatePath, keyPath, rootPath, registryPath, TimeProvider.System);
    }

    public static RegistryEndpoints ReadEndpoints(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, RegistryEndpoints.FileName);
        if (!File.Exists(path))
        {
            throw new CliException("Registry.NotRunning", $"{path} does not exist: is `xbus registry serve --data {dataDirectory}` running? Or give --registry.");
        }

        return JsonSerializer.Deserialize<RegistryEndpoints>(File.ReadAllText(path))
            ?? throw new CliException("Registry.NotRunning", $"{path} is empty.");
    }
}
