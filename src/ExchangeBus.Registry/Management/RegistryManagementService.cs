// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using Grpc.Core;

namespace ExchangeBus.Registry.Management;

/// <summary>
/// <c>RegistryManagement</c>: answers only a caller whose TLS certificate is an administrator
/// certificate issued through this registry and not revoked; anyone else is refused. A refusal of a
/// certificate holder is in the admin audit log; one of a caller without a certificate is counted
/// and logged. Requests are bounded to <see cref="MaxRequestBytes"/>, read only after the rate
/// limiter let the call through.
/// </summary>
public sealed class RegistryManagementService(RegistryStore store, RegistryCalls calls) : RegistryManagement.RegistryManagementBase
{
    /// <summary>Largest request: an auditor's CSR and a name, a group's description; nothing an administrator sends is larger.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    public override Task<ChangeResult> AddMemberClass(AddMemberClassRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.AddMemberClass(actor, r.Code, r.Description)));

    public override Task<ChangeResult> AddMember(AddMemberRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.AddMember(actor, r.Member, r.Name)));

    public override Task<ChangeResult> SetMemberEnabled(SetEnabledRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.SetMemberEnabled(actor, r.Id, r.Enabled)));

    public override Task<ChangeResult> AddSubsystem(AddSubsystemRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.AddSubsystem(actor, r.Subsystem)));

    public override Task<ChangeResult> SetSubsystemEnabled(SetEnabledRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.SetSubsystemEnabled(actor, r.Id, r.Enabled)));

    public override Task<ListMembersResponse> ListMembers(ListMembersRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (_, _) => new ListMembersResponse { Members = { store.ListMembers() } });

    public override Task<ListRegistrationsResponse> ListRegistrations(ListRegistrationsRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (_, r) => new ListRegistrationsResponse { Registrations = { store.ListRegistrations(r.States.ToArray()) } });

    public override Task<RegistrationStatus> ApproveRegistration(DecideRegistrationRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => store.Decide(actor, r.RegistrationId, approve: true, r.Reason, r.AuthKeySha256));

    public override Task<RegistrationStatus> RefuseRegistration(DecideRegistrationRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => store.Decide(actor, r.RegistrationId, approve: false, r.Reason));

    public override Task<ListNodesResponse> ListNodes(ListNodesRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (_, _) => new ListNodesResponse { Nodes = { store.ListNodes() } });

    public override Task<ChangeResult> AddGlobalGroup(AddGlobalGroupRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.AddGlobalGroup(actor, r.Group, r.Description)));

    public override Task<ChangeResult> SetGlobalGroupMember(SetGlobalGroupMemberRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.SetGlobalGroupMember(actor, r.Group, r.Member, r.Present)));

    public override Task<ChangeResult> RevokeCertificate(RevokeCertificateRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) => RegistryCalls.Result(store.RevokeCertificate(actor, r.SerialNumber, r.Reason)));

    public override Task<ListCertificatesResponse> ListCertificates(ListCertificatesRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (_, _) => new ListCertificatesResponse { Certificates = { store.ListCertificates() } });

    public override Task<QueryAuditLogResponse> QueryAuditLog(QueryAuditLogRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (_, r) => new QueryAuditLogResponse
        {
            Entries = { store.QueryAuditLog((long)r.AfterSequence, r.Limit == 0 ? 100 : (int)Math.Min(r.Limit, 1000), r.Actor, r.Action).Select(RegistryCalls.ToProto) },
        });

    public override Task<VerifyAuditLogResponse> VerifyAuditLog(VerifyAuditLogRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (_, _) =>
        {
            var result = store.VerifyAuditLog();
            return new VerifyAuditLogResponse { Valid = result.Valid, Entries = (ulong)result.Entries, FirstBadSequence = (ulong)result.FirstBadSequence, Problem = result.Problem };
        });

    public override Task<IssueAuditorCertificateResponse> IssueAuditorCertificate(IssueAuditorCertificateRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) =>
        {
            var issued = store.IssueAuditorCertificate(actor, r.Csr, r.Member, r.Name, r.ValidityDays);
            return new IssueAuditorCertificateResponse { Certificate = ByteString.CopyFrom(issued.Certificate), AuditSequence = (ulong)issued.AuditSequence };
        });

    public override Task<IssueAdministratorCertificateResponse> IssueAdministratorCertificate(IssueAdministratorCertificateRequest request, ServerCallContext context) =>
        calls.Administered(request, context, (actor, r) =>
        {
            var issued = store.IssueAdministratorCertificate(actor, r.Csr, r.Name, r.ValidityDays);
            return new IssueAdministratorCertificateResponse { Certificate = ByteString.CopyFrom(issued.Certificate), AuditSequence = (ulong)issued.AuditSequence };
        });
}
