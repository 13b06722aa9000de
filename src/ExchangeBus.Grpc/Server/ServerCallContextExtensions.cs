// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace ExchangeBus.Grpc;

/// <summary>What bus services read from a call beyond Grpc.Core's surface.</summary>
public static class ServerCallContextExtensions
{
    extension(ServerCallContext context)
    {
        /// <summary>The ASP.NET Core request behind the call.</summary>
        public HttpContext HttpContext => context.GetHttpContext();

        /// <summary>The certificate the caller presented in the TLS handshake, already chain-validated by the listener.</summary>
        public X509Certificate2? ClientCertificate => context.GetHttpContext().Connection.ClientCertificate;

        /// <summary>The call's correlation id: the id ASP.NET Core gave its request, also in the server's logs.</summary>
        public string CorrelationId => context.GetHttpContext().TraceIdentifier;

        /// <summary>The client's deadline, or null when it set none (Grpc.Core says <see cref="DateTime.MaxValue"/>).</summary>
        public DateTimeOffset? ClientDeadline => context.Deadline == DateTime.MaxValue ? null : new DateTimeOffset(context.Deadline, TimeSpan.Zero);
    }
}
