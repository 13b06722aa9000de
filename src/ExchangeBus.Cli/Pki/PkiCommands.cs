// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Net;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Cli.Pki;

/// <summary><c>xbus pki …</c>: the development PKI and issuing from a CSR.</summary>
internal static class PkiCommands
{
    /// <summary>Exit code for an expected failure; the stable error code is on stderr.</summary>
    public const int FailureExitCode = 2;

    /// <summary>A hundred years: any longer is a typo (and the CA's own expiry caps it anyway).</summary>
    private const int MaxDays = 36500;

    public static Command Create(TimeProvider timeProvider)
    {
        var pki = new Command("pki", "Keys and certificates of the bus.");
        pki.Subcommands.Add(CreateDevInit(timeProvider));
        pki.Subcommands.Add(CreateIssue(timeProvider));
        return pki;
    }

    private static Command CreateDevInit(TimeProvider timeProvider)
    {
        var outOption = new Option<string>("--out")
        {
            Description = "Folder for the set (created 0700 if missing).",
            DefaultValueFactory = _ => DevelopmentPki.DefaultDirectory,
        };
        var instanceOption = new Option<string>("--instance")
        {
            Description = "Instance code written into every certificate subject (DC=…).",
            DefaultValueFactory = _ => DevelopmentPki.DefaultInstance,
        };
        var forceOption = new Option<bool>("--force")
        {
            Description = "Replace an existing set.",
        };

        var command = new Command(
            "dev-init",
            "Create a development PKI (root CA, configuration signing, TSA, OCSP, registry TLS, administrator). DEVELOPMENT AND TESTS ONLY.")
        {
            outOption,
            instanceOption,
            forceOption,
        };
        command.SetAction(parseResult => Run(parseResult, () =>
        {
            var options = new DevelopmentPkiOptions
            {
                OutputDirectory = parseResult.GetValue(outOption) ?? DevelopmentPki.DefaultDirectory,
                Instance = parseResult.GetValue(instanceOption) ?? DevelopmentPki.DefaultInstance,
                Force = parseResult.GetValue(forceOption),
            };
            var manifest = new DevelopmentPki(timeProvider).Create(options);
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(
                $"Development PKI for instance '{manifest.Instance}' written to {Path.GetFullPath(options.OutputDirectory)}");
            output.WriteLine("DEVELOPMENT AND TESTS ONLY: never use these keys or certificates in production.");
            foreach (var entry in manifest.Entries)
            {
                output.WriteLine(
                    $"  {entry.Name,-15} {entry.CertificateFile,-20} {entry.Profile,-21} expires {entry.NotAfter:yyyy-MM-dd}  {entry.Subject}");
            }

            output.WriteLine($"  private keys: *.key.pem (mode 0600); manifest: {DevelopmentPki.ManifestFile}");
        }));
        return command;
    }

    private static Command CreateIssue(TimeProvider timeProvider)
    {
        var caDirOption = new Option<string>("--ca-dir")
        {
            Description = $"Folder holding the CA's {DevelopmentPki.RootCertificateFile} and {DevelopmentPki.RootKeyFile}.",
            Required = true,
        };
        var csrOption = new Option<string>("--csr")
        {
            Description = "PKCS#10 request, PEM or DER (ECDSA P-256 only).",
            Required = true,
        };
        var profileOption = new Option<CertificateProfile>("--profile")
        {
            Description = "What the certificate is for (see docs/design/certificates.md).",
            Required = true,
        };
        var outOption = new Option<string>("--out")
        {
            Description = "File for the issued certificate (PEM).",
            Required = true,
        };
        var dnsOption = new Option<string[]>("--dns")
        {
            Description = "DNS name for subjectAltName (TLS profiles); repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var ipOption = new Option<string[]>("--ip")
        {
            Description = "IP address for subjectAltName (TLS profiles); repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var daysOption = new Option<int?>("--days")
        {
            Description = "Validity in days (default: the profile's; never beyond the CA's).",
        };
        var forceOption = new Option<bool>("--force")
        {
            Description = "Replace the output file if it exists.",
        };

        var command = new Command("issue", "Issue a certificate from a CSR with the CA in --ca-dir.")
        {
            caDirOption,
            csrOption,
            profileOption,
            outOption,
            dnsOption,
            ipOption,
            daysOption,
            forceOption,
        };
        command.SetAction(parseResult => Run(parseResult, () =>
        {
            var caDir = parseResult.GetRequiredValue(caDirOption);
            var csrResult = CertificateSigningRequests.ReadFile(parseResult.GetRequiredValue(csrOption));
            if (!csrResult.IsSuccess)
            {
                throw new PkiException(csrResult.Error.Code, csrResult.Error.Message);
            }

            var addresses = new List<IPAddress>();
            foreach (var text in parseResult.GetValue(ipOption) ?? [])
            {
                if (!IPAddress.TryParse(text, out var address))
                {
                    throw new PkiException(PkiErrors.IssueInvalidName, $"'{text}' is not an IP address.");
                }

                addresses.Add(address);
            }

            var days = parseResult.GetValue(daysOption);
            if (days is <= 0 or > MaxDays)
            {
                throw new PkiException(PkiErrors.IssueInvalidValidity, $"--days must be between 1 and {MaxDays}.");
            }

            using var authority = CertificateAuthority.Load(
                Path.Combine(caDir, DevelopmentPki.RootCertificateFile),
                Path.Combine(caDir, DevelopmentPki.RootKeyFile),
                timeProvider);
            var request = CertificateIssueRequest.FromCsr(csrResult.Csr, parseResult.GetRequiredValue(profileOption)) with
            {
                DnsNames = parseResult.GetValue(dnsOption) ?? [],
                IpAddresses = addresses,
                Validity = days is null ? null : TimeSpan.FromDays(days.Value),
            };
            using var certificate = authority.Issue(request);
            var outPath = parseResult.GetRequiredValue(outOption);
            PemFiles.WriteCertificate(outPath, certificate, parseResult.GetValue(forceOption));

            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine($"Issued {request.Profile} certificate to {Path.GetFullPath(outPath)}");
            output.WriteLine($"  subject: {certificate.Subject}");
            output.WriteLine($"  issuer:  {certificate.Issuer}");
            output.WriteLine($"  serial:  {certificate.SerialNumber}");
            output.WriteLine($"  valid:   {certificate.NotBefore.ToUniversalTime():O} to {certificate.NotAfter.ToUniversalTime():O}");
        }));
        return command;
    }

    /// <summary>
    /// Expected failures (a bad CSR, an existing set) print their stable code and exit 2; anything
    /// else is a bug and is left to System.CommandLine's handler.
    /// </summary>
    private static int Run(ParseResult parseResult, Action action) => CommandRunner.Run(parseResult, action);
}
