// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Node.Gateway;
using ExchangeBus.Samples.Citizen.V1;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace ExchangeBus.Cli.Demo;

/// <summary>
/// The demo's typed gRPC step (docs/clients.md): an agency system keeps the stub generated from
/// the provider's own .proto and points it at its node, naming itself and the bus service in
/// metadata. One method a call kind: each shows what its caller gets back.
/// </summary>
internal sealed class DemoTypedGrpc(TextWriter output, GrpcChannel node, string client, string service)
{
    /// <summary>A citizen the sample registry knows, and one it does not.</summary>
    public const string KnownCitizen = "079201000123";

    public const string UnknownCitizen = "079201999999";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        output.WriteLine($"      metadata  {TransparentGrpc.ClientHeader}: {client}");
        output.WriteLine($"                {TransparentGrpc.ServiceHeader}: {service}");
        await ShowGetCitizenAsync(KnownCitizen, cancellationToken).ConfigureAwait(false);
        await ShowGetCitizenAsync(UnknownCitizen, cancellationToken).ConfigureAwait(false);
        await ShowListDocumentsAsync(KnownCitizen, cancellationToken).ConfigureAwait(false);
    }

    private Metadata Headers() => new()
    {
        { TransparentGrpc.ClientHeader, client },
        { TransparentGrpc.ServiceHeader, service },
        { TransparentGrpc.UserIdHeader, "officer-042" },
    };

    /// <summary>Server streaming: each document arrives as its own message (its own signed, logged link) and is printed as it comes.</summary>
    private async Task ShowListDocumentsAsync(string citizenId, CancellationToken cancellationToken)
    {
        output.WriteLine($"      CitizenRegistry.ListDocuments(citizen_id {citizenId}), a stream:");
        using var call = new CitizenRegistry.CitizenRegistryClient(node).ListDocuments(
            new ListDocumentsRequest { CitizenId = citizenId }, Headers(), DateTime.UtcNow.AddSeconds(30), cancellationToken);
        var count = 0;
        await foreach (var document in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            output.WriteLine($"        message {++count}: {document.DocumentId} {document.Kind}, issued {document.IssuedOn}");
        }

        output.WriteLine($"        stream ended {call.GetStatus().StatusCode} after {count} messages; {TransparentGrpc.MessageIdHeader}: {(await call.ResponseHeadersAsync.ConfigureAwait(false)).GetValue(TransparentGrpc.MessageIdHeader)} (each message and the end record in both nodes' message logs)");
    }

    private async Task ShowGetCitizenAsync(string citizenId, CancellationToken cancellationToken)
    {
        output.WriteLine($"      CitizenRegistry.GetCitizen(citizen_id {citizenId}):");
        using var call = new CitizenRegistry.CitizenRegistryClient(node).GetCitizenAsync(
            new GetCitizenRequest { CitizenId = citizenId }, Headers(), DateTime.UtcNow.AddSeconds(30), cancellationToken);
        try
        {
            var citizen = await call.ResponseAsync.ConfigureAwait(false);
            output.WriteLine($"        answer: {citizen.FullName}, born {citizen.DateOfBirth}, {citizen.Province}");
        }
        catch (RpcException ex) when (ex.Trailers.GetValue(TransparentGrpc.ErrorSourceTrailer) == "provider")
        {
            // The registry's own error, passed through as it sent it; the bus's refusals carry no such trailer.
            var reason = ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;
            output.WriteLine($"        the registry's own error: {ex.StatusCode} \"{ex.Status.Detail}\", reason {reason} ({TransparentGrpc.ErrorSourceTrailer}: provider)");
        }

        output.WriteLine($"        {TransparentGrpc.MessageIdHeader}: {(await call.ResponseHeadersAsync.ConfigureAwait(false)).GetValue(TransparentGrpc.MessageIdHeader)} (the exchange in both nodes' message logs)");
    }
}
