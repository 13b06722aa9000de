// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using Grpc.Core;
using ExchangeBus.Core.Errors;
using ExchangeBus.Registry.Storage;

namespace ExchangeBus.Registry.Management;

/// <summary>
/// <c>RegistryService</c>: the configuration (it is signed) and registrations (they prove
/// themselves) for any TLS caller; tree heads submitted by a listed node with its
/// authentication certificate and read by an auditor.
/// </summary>
public sealed class RegistryPublicService(RegistryStore store, RegistryCalls calls) : RegistryService.RegistryServiceBase
{
    public override Task<GetGlobalConfigurationResponse> GetGlobalConfiguration(GetGlobalConfigurationRequest request, ServerCallContext context) =>
        calls.Run(context, () =>
        {
            var (version, configuration) = store.CurrentConfiguration();
            return configuration is null || version <= request.IfNewerThan
                ? new GetGlobalConfigurationResponse { NotModified = true, Version = version }
                : new GetGlobalConfigurationResponse { Configuration = configuration, Version = version };
        });

    /// <summary>
    /// Largest request message of this service: a tree head with its signer certificate, a
    /// time-stamp token and a consistency proof (Core's TreeHeadChecks bounds). A registration is
    /// bounded far lower by its own check (<see cref="RegistryStore.MaxRegistrationBytes"/>).
    /// </summary>
    public const int MaxRequestBytes = 128 * 1024;

    public override Task<RegistrationStatus> SubmitRegistration(SignedRegistrationRequest request, ServerCallContext context) =>
        calls.Anonymous(context, () => store.SubmitRegistration(request));

    public override Task<RegistrationStatus> GetRegistration(GetRegistrationRequest request, ServerCallContext context) =>
        calls.Anonymous(context, () => store.GetRegistration(request.RegistrationId)
            ?? throw RegistryException.NotFound(RegistryErrors.UnknownRegistration, "No such registration."));

    public override Task<SubmitTreeHeadResponse> SubmitTreeHead(SubmitTreeHeadRequest request, ServerCallContext context) =>
        calls.Run(context, () => calls.SubmitTreeHead(calls.RequireNode(context), request));

    public override Task<GetNodeTreeHeadsResponse> GetNodeTreeHeads(GetNodeTreeHeadsRequest request, ServerCallContext context) =>
        calls.Run(context, () =>
        {
            calls.RequireAuditor(context);
            var node = RegistryCalls.ParseNode(request.Node);
            var limit = request.Limit == 0 ? 100 : (int)Math.Min(request.Limit, RegistryCalls.MaxTreeHeadsPerCall);
            var from = (long)Math.Min(request.FromSize, long.MaxValue);
            return new GetNodeTreeHeadsResponse { Heads = { store.ReadTreeHeads(node, from, limit) } };
        });
}
