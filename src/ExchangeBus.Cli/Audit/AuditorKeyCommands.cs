// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit keygen</c>: an auditor's key and CSR, the first of two steps (the second is the
/// central authority's <c>xbus registry auditor issue</c>).
/// </summary>
internal static class AuditorKeyCommands
{
    /// <summary>File names in the auditor's folder; the other <c>xbus audit</c> commands look for them there.</summary>
    public const string KeyFile = "auditor.key.pem";
    public const string CsrFile = "auditor.csr.pem";
    public const string CertificateFile = "auditor.pem";

    public static Command CreateKeygen()
    {
        var output = new Option<string>("--out") { Description = "The auditor's folder (created 0700 if missing).", Required = true };
        var name = new Option<string>("--name") { Description = "The auditor's name, for the CSR (the registry sets the certificate's subject).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace an existing key and CSR." };
        var command = new Command("keygen", $"Make an auditor's P-256 key ({KeyFile}, 0600) and CSR ({CsrFile}) for the central authority.")
        {
            output, name, force,
        };
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var directory = parse.GetValue(output)!;
            var auditor = parse.GetValue(name)!;
            var builder = new X500DistinguishedNameBuilder();
            try
            {
                builder.AddCommonName(auditor);
            }
            catch (ArgumentException ex)
            {
                throw new PkiException(PkiErrors.IssueInvalidName, ex.Message);
            }

            PemFiles.EnsurePrivateDirectory(directory);
            using var key = EcKeys.GenerateP256();
            var keyPath = Path.Combine(directory, KeyFile);
            var csrPath = Path.Combine(directory, CsrFile);
            var overwrite = parse.GetValue(force);
            if (!overwrite && File.Exists(csrPath))
            {
                // Checked before the key is written, so a refusal leaves the folder as it was.
                throw new PkiException(PkiErrors.FileAlreadyExists, $"{csrPath} exists; give --force to replace it.");
            }

            PemFiles.WritePrivateKey(keyPath, key, overwrite);
            PemFiles.WritePublicText(csrPath, CertificateSigningRequests.CreatePem(builder.Build(), key), overwrite);
            var text = parse.InvocationConfiguration.Output;
            text.WriteLine($"key: {Path.GetFullPath(keyPath)} (0600, never leaves this folder)");
            text.WriteLine($"CSR: {Path.GetFullPath(csrPath)}");
            text.WriteLine("Send the CSR to the central authority, who runs:");
            text.WriteLine($"  xbus registry auditor issue --csr {CsrFile} --name \"{auditor}\" --member INSTANCE/CLASS/MEMBER (or --national) --out {CertificateFile}");
            text.WriteLine($"and put the certificate back here as {Path.Combine(directory, CertificateFile)}.");
        }));
        return command;
    }
}
