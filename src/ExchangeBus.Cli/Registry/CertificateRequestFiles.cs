// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;
using Google.Protobuf;

namespace ExchangeBus.Cli.Registry;

/// <summary>What `registry auditor issue` and `registry admin issue` share: the CSR file in, the certificate file out.</summary>
internal static class CertificateRequestFiles
{
    /// <summary>
    /// The CSR's DER, checked here first; and the output path, refused before the call if it
    /// exists without --force, so a mistyped path does not cost a certificate.
    /// </summary>
    public static ByteString ReadCsr(string csrPath, string outPath, bool force)
    {
        var parsed = CertificateSigningRequests.ReadFile(csrPath);
        if (!parsed.IsSuccess)
        {
            throw new PkiException(parsed.Error.Code, parsed.Error.Message);
        }

        if (File.Exists(outPath) && !force)
        {
            throw new PkiException(PkiErrors.FileAlreadyExists, $"{outPath} exists; give --force to replace it.");
        }

        return ByteString.CopyFrom(parsed.Csr.Der.Span);
    }

    /// <summary>Writes the issued certificate (PEM) and returns it, for the caller to describe.</summary>
    public static X509Certificate2 Write(ByteString issued, string outPath, bool force)
    {
        var certificate = X509CertificateLoader.LoadCertificate(issued.Span);
        PemFiles.WriteCertificate(outPath, certificate, force);
        return certificate;
    }
}
