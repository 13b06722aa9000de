// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Text.Json;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Registry.V1;
using Grpc.Core;

namespace ExchangeBus.Cli.Registry;

/// <summary><c>xbus registry auditor issue</c>: the central authority certifies an auditor's key.</summary>
internal static class AuditorCommands
{
    public static Command Create()
    {
        var csr = new Option<string>("--csr") { Description = "The auditor's PKCS#10 request, PEM or DER (P-256; e.g. from `xbus audit keygen`).", Required = true };
        var name = new Option<string>("--name") { Description = "The auditor's name, as it will appear in CN.", Required = true };
        var member = new Option<string?>("--member") { Description = "The member audited, INSTANCE/CLASS/MEMBER: a member auditor sees that member's exchanges." };
        var national = new Option<bool>("--national") { Description = "A national auditor: sees every member's exchanges." };
        var days = new Option<uint>("--days") { Description = "Validity in days (default: the profile's, two years)." };
        var output = new Option<string>("--out") { Description = "File for the issued certificate (PEM).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists." };
        var issue = new Command("issue", "Issue an auditor certificate from the auditor's CSR; the registry sets the subject.")
        {
            csr, name, member, national, days, output, force,
        };
        RegistryConnection.AddOptions(issue);
        issue.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var memberId = parse.GetValue(member);
            if ((memberId is null) == !parse.GetValue(national))
            {
                throw new CliException("Cli.InvalidArguments", "Give exactly one of --member MEMBER and --national.");
            }

            var outPath = parse.GetValue(output)!;
            var csrBytes = CertificateRequestFiles.ReadCsr(parse.GetValue(csr)!, outPath, parse.GetValue(force));
            using var channel = RegistryConnection.Open(parse);
            var response = await new RegistryManagement.RegistryManagementClient(channel).IssueAuditorCertificateAsync(new IssueAuditorCertificateRequest
            {
                Csr = csrBytes,
                Member = memberId ?? string.Empty,
                Name = parse.GetValue(name)!,
                ValidityDays = parse.GetValue(days),
            }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);

            using var certificate = CertificateRequestFiles.Write(response.Certificate, outPath, parse.GetValue(force));
            var text = parse.InvocationConfiguration.Output;
            var notAfter = certificate.NotAfter.ToUniversalTime();
            if (parse.GetValue(RegistryConnection.JsonOption))
            {
                text.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["certificate_file"] = Path.GetFullPath(outPath),
                    ["serial_number"] = certificate.SerialNumber,
                    ["subject"] = certificate.Subject,
                    ["scope"] = memberId is null ? "national" : "member",
                    ["not_after"] = notAfter.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    ["audit_sequence"] = response.AuditSequence,
                }));
                return;
            }

            text.WriteLine($"Issued {(memberId is null ? "national auditor" : "auditor of " + memberId)} certificate to {Path.GetFullPath(outPath)}");
            text.WriteLine($"  subject: {certificate.Subject}");
            text.WriteLine($"  serial:  {certificate.SerialNumber}");
            text.WriteLine($"  valid until {notAfter:O}; audit entry {response.AuditSequence}");
        }));
        return new Command("auditor", "Auditors' certificates (revoke with `registry cert revoke`).") { issue };
    }
}
