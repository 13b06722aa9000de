// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Registry.V1;
using Grpc.Core;

namespace ExchangeBus.Cli.Registry;

/// <summary>
/// <c>xbus registry admin issue</c>: an administrator certifies another administrator's key. The
/// certificate is recorded, so it can be revoked with <c>registry cert revoke</c>; one made with
/// <c>xbus pki issue</c> is not, and the registry does not accept it.
/// </summary>
internal static class AdministratorCommands
{
    public static Command Create()
    {
        var csr = new Option<string>("--csr") { Description = "The administrator's PKCS#10 request, PEM or DER (P-256; e.g. from `openssl req`).", Required = true };
        var name = new Option<string>("--name") { Description = "The administrator's name, as it will appear in CN.", Required = true };
        var days = new Option<uint>("--days") { Description = "Validity in days (default: the profile's)." };
        var output = new Option<string>("--out") { Description = "File for the issued certificate (PEM).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists." };
        var issue = new Command("issue", "Issue an administrator certificate from the administrator's CSR; the registry sets the subject.")
        {
            csr, name, days, output, force,
        };
        RegistryConnection.AddOptions(issue);
        issue.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var outPath = parse.GetValue(output)!;
            var csrBytes = CertificateRequestFiles.ReadCsr(parse.GetValue(csr)!, outPath, parse.GetValue(force));
            using var channel = RegistryConnection.Open(parse);
            var response = await new RegistryManagement.RegistryManagementClient(channel).IssueAdministratorCertificateAsync(new IssueAdministratorCertificateRequest
            {
                Csr = csrBytes,
                Name = parse.GetValue(name)!,
                ValidityDays = parse.GetValue(days),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);

            using var certificate = CertificateRequestFiles.Write(response.Certificate, outPath, parse.GetValue(force));
            var text = parse.InvocationConfiguration.Output;
            text.WriteLine($"Issued administrator certificate to {Path.GetFullPath(outPath)}");
            text.WriteLine($"  subject: {certificate.Subject}");
            text.WriteLine($"  serial:  {certificate.SerialNumber}");
            text.WriteLine($"  valid until {certificate.NotAfter.ToUniversalTime():O}; audit entry {response.AuditSequence}");
        }));
        return new Command("admin", "Administrators' certificates (revoke with `registry cert revoke`).") { issue };
    }
}
