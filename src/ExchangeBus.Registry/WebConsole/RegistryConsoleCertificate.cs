// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Core.Pki;

namespace ExchangeBus.Registry.WebConsole;

/// <summary>
/// The console listener's TLS certificate: self-signed, made at <c>xbus registry init</c> (or
/// at the first start with a console, for a registry made before there was one). People's
/// browsers meet it, not nodes, so it is not issued by the bus's CA; an operator may replace
/// both files with a certificate from the agency's own CA.
/// </summary>
public static class RegistryConsoleCertificate
{
    public const string CertificateFile = "console-tls-cert.pem";
    public const string KeyFile = "console-tls-key.pem";

    /// <summary>The folder, under the data folder, of the console's cookie-protection keys.</summary>
    public const string KeysFolder = "console-keys";

    public static void EnsureCreated(string dataDirectory, string instance, TimeProvider time) =>
        SelfSignedTlsCertificate.EnsureCreated(
            Path.Combine(dataDirectory, CertificateFile), Path.Combine(dataDirectory, KeyFile), "ExchangeBus registry console", instance, time);

    public static X509Certificate2 LoadOrCreate(string dataDirectory, string instance, TimeProvider time)
    {
        EnsureCreated(dataDirectory, instance, time);
        return SelfSignedTlsCertificate.Load(Path.Combine(dataDirectory, CertificateFile), Path.Combine(dataDirectory, KeyFile))
            ?? throw new InvalidOperationException($"{CertificateFile} does not match {KeyFile} in {dataDirectory}.");
    }
}
