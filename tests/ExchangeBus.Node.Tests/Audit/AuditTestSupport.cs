// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using Grpc.Net.Client;
using ExchangeBus.Grpc.Tls;
using ExchangeBus.Node.Hosting;
using ExchangeBus.Node.Tests.Exchange;
using Google.Protobuf;

namespace ExchangeBus.Node.Tests.Audit;

/// <summary>Auditors as the registry makes them, and their channels to a node's audit API.</summary>
internal static class AuditTestSupport
{
    /// <summary>A certificate for a new key; <paramref name="member"/> empty for a national auditor. The result carries the key.</summary>
    public static async Task<X509Certificate2> IssueAuditorAsync(this BusFixture bus, string member, string name)
    {
        using var admin = bus.AdminChannel();
        using var key = EcKeys.GenerateP256();
        var csr = CertificateSigningRequests.Create(new X500DistinguishedName("CN=auditor"), key);
        var response = await new RegistryManagement.RegistryManagementClient(admin).IssueAuditorCertificateAsync(new IssueAuditorCertificateRequest { Csr = ByteString.CopyFrom(csr), Member = member, Name = name }).ResponseAsync;
        using var certificate = X509CertificateLoader.LoadCertificate(response.Certificate.Span);
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>A channel to <paramref name="node"/>'s audit API (its inter-node listener), presenting <paramref name="certificate"/>.</summary>
    public static GrpcChannel AuditChannel(this BusFixture bus, NodeServer node, X509Certificate2 certificate) =>
        BusChannel.Create(new Uri("https://" + node.PeerAddress), new BusChannelOptions
        {
            ServerTrust = new CertificateTrust([bus.Registry.Keys.RootCertificate], TimeProvider.System),
            ClientCertificate = certificate,
        });
}
