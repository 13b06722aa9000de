// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Grpc;
using ExchangeBus.Registry.Audit;
using ExchangeBus.Registry.Storage;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace ExchangeBus.Registry.Management;

/// <summary>
/// The registry's two gRPC services. <c>RegistryService</c> answers any TLS caller for the
/// configuration (it is signed) and registrations (they prove themselves); tree heads are
/// submitted only by a listed node with its authentication certificate and read only by an
/// auditor. <c>RegistryManagement</c> answers only a caller whose TLS certificate is an
/// administrator certificate issued by this registry's CA; anyone else is refused, and the
/// refusal is in the admin audit log. The listener asks for client certificates without
/// requiring one, so each method decides.
/// </summary>
public sealed partial class RegistryGrpcServices(RegistryStore store, CertificateChainValidator validator, ILogger<RegistryGrpcServices> logger)
{
    private static readonly ServiceDescriptor Public = RegistryReflection.Descriptor.Services.Single(s => s.Name == "RegistryService");
    private static readonly ServiceDescriptor Admin = RegistryReflection.Descriptor.Services.Single(s => s.Name == "RegistryManagement");

    public static readonly Method<GetGlobalConfigurationRequest, GetGlobalConfigurationResponse> GetGlobalConfigurationMethod = P<GetGlobalConfigurationRequest, GetGlobalConfigurationResponse>("GetGlobalConfiguration");
    public static readonly Method<SignedRegistrationRequest, RegistrationStatus> SubmitRegistrationMethod = P<SignedRegistrationRequest, RegistrationStatus>("SubmitRegistration");
    public static readonly Method<GetRegistrationRequest, RegistrationStatus> GetRegistrationMethod = P<GetRegistrationRequest, RegistrationStatus>("GetRegistration");
    public static readonly Method<SubmitTreeHeadRequest, SubmitTreeHeadResponse> SubmitTreeHeadMethod = P<SubmitTreeHeadRequest, SubmitTreeHeadResponse>("SubmitTreeHead");
    public static readonly Method<GetNodeTreeHeadsRequest, GetNodeTreeHeadsResponse> GetNodeTreeHeadsMethod = P<GetNodeTreeHeadsRequest, GetNodeTreeHeadsResponse>("GetNodeTreeHeads");

    public static readonly Method<AddMemberClassRequest, ChangeResult> AddMemberClassMethod = A<AddMemberClassRequest, ChangeResult>("AddMemberClass");
    public static readonly Method<AddMemberRequest, ChangeResult> AddMemberMethod = A<AddMemberRequest, ChangeResult>("AddMember");
    public static readonly Method<SetEnabledRequest, ChangeResult> SetMemberEnabledMethod = A<SetEnabledRequest, ChangeResult>("SetMemberEnabled");
    public static readonly Method<AddSubsystemRequest, ChangeResult> AddSubsystemMethod = A<AddSubsystemRequest, ChangeResult>("AddSubsystem");
    public static readonly Method<SetEnabledRequest, ChangeResult> SetSubsystemEnabledMethod = A<SetEnabledRequest, ChangeResult>("SetSubsystemEnabled");
    public static readonly Method<ListMembersRequest, ListMembersResponse> ListMembersMethod = A<ListMembersRequest, ListMembersResponse>("ListMembers");
    public static readonly Method<ListRegistrationsRequest, ListRegistrationsResponse> ListRegistrationsMethod = A<ListRegistrationsRequest, ListRegistrationsResponse>("ListRegistrations");
    public static readonly Method<DecideRegistrationRequest, RegistrationStatus> ApproveRegistrationMethod = A<DecideRegistrationRequest, RegistrationStatus>("ApproveRegistration");
    public static readonly Method<DecideRegistrationRequest, RegistrationStatus> RefuseRegistrationMethod = A<DecideRegistrationRequest, RegistrationStatus>("RefuseRegistration");
    public static readonly Method<ListNodesRequest, ListNodesResponse> ListNodesMethod = A<ListNodesRequest, ListNodesResponse>("ListNodes");
    public static readonly Method<AddGlobalGroupRequest, ChangeResult> AddGlobalGroupMethod = A<AddGlobalGroupRequest, ChangeResult>("AddGlobalGroup");
    public static readonly Method<SetGlobalGroupMemberRequest, ChangeResult> SetGlobalGroupMemberMethod = A<SetGlobalGroupMemberRequest, ChangeResult>("SetGlobalGroupMember");
    public static readonly Method<RevokeCertificateRequest, ChangeResult> RevokeCertificateMethod = A<RevokeCertificateRequest, ChangeResult>("RevokeCertificate");
    public static readonly Method<ListCertificatesRequest, ListCertificatesResponse> ListCertificatesMethod = A<ListCertificatesRequest, ListCertificatesResponse>("ListCertificates");
    public static readonly Method<QueryAuditLogRequest, QueryAuditLogResponse> QueryAuditLogMethod = A<QueryAuditLogRequest, QueryAuditLogResponse>("QueryAuditLog");
    public static readonly Method<VerifyAuditLogRequest, VerifyAuditLogResponse> VerifyAuditLogMethod = A<VerifyAuditLogRequest, VerifyAuditLogResponse>("VerifyAuditLog");
    public static readonly Method<IssueAuditorCertificateRequest, IssueAuditorCertificateResponse> IssueAuditorCertificateMethod = A<IssueAuditorCertificateRequest, IssueAuditorCertificateResponse>("IssueAuditorCertificate");

    /// <summary>At most this many heads per GetNodeTreeHeads answer (the contract's bound).</summary>
    public const int MaxTreeHeadsPerCall = 1000;

    public GrpcServiceDefinition PublicService() => GrpcServiceDefinition.CreateBuilder()
        .AddMethod(GetGlobalConfigurationMethod, (request, context) => Run(context, () =>
        {
            var (version, configuration) = store.CurrentConfiguration();
            return configuration is null || version <= request.IfNewerThan
                ? new GetGlobalConfigurationResponse { NotModified = true, Version = version }
                : new GetGlobalConfigurationResponse { Configuration = configuration, Version = version };
        }))
        .AddMethod(SubmitRegistrationMethod, (request, context) => Run(context, () => store.SubmitRegistration(request)))
        .AddMethod(GetRegistrationMethod, (request, context) => Run(context, () => store.GetRegistration(request.RegistrationId)
            ?? throw RegistryException.NotFound(RegistryErrors.UnknownRegistration, "No such registration.")))
        .AddMethod(SubmitTreeHeadMethod, (request, context) => Run(context, () => SubmitTreeHead(RequireNode(context), request)))
        .AddMethod(GetNodeTreeHeadsMethod, (request, context) => Run(context, () =>
        {
            RequireAuditor(context);
            var node = ParseNode(request.Node);
            var limit = request.Limit == 0 ? 100 : (int)Math.Min(request.Limit, MaxTreeHeadsPerCall);
            var from = (long)Math.Min(request.FromSize, long.MaxValue);
            return new GetNodeTreeHeadsResponse { Heads = { store.ReadTreeHeads(node, from, limit) } };
        }))
        .Build();

    public GrpcServiceDefinition ManagementService() => GrpcServiceDefinition.CreateBuilder()
        .AddMethod(AddMemberClassMethod, Administered<AddMemberClassRequest, ChangeResult>((actor, r) => Result(store.AddMemberClass(actor, r.Code, r.Description))))
        .AddMethod(AddMemberMethod, Administered<AddMemberRequest, ChangeResult>((actor, r) => Result(store.AddMember(actor, r.Member, r.Name))))
        .AddMethod(SetMemberEnabledMethod, Administered<SetEnabledRequest, ChangeResult>((actor, r) => Result(store.SetMemberEnabled(actor, r.Id, r.Enabled))))
        .AddMethod(AddSubsystemMethod, Administered<AddSubsystemRequest, ChangeResult>((actor, r) => Result(store.AddSubsystem(actor, r.Subsystem))))
        .AddMethod(SetSubsystemEnabledMethod, Administered<SetEnabledRequest, ChangeResult>((actor, r) => Result(store.SetSubsystemEnabled(actor, r.Id, r.Enabled))))
        .AddMethod(ListMembersMethod, Administered<ListMembersRequest, ListMembersResponse>((_, _) => new ListMembersResponse { Members = { store.ListMembers() } }))
        .AddMethod(ListRegistrationsMethod, Administered<ListRegistrationsRequest, ListRegistrationsResponse>((_, r) =>
            new ListRegistrationsResponse { Registrations = { store.ListRegistrations(r.States.ToArray()) } }))
        .AddMethod(ApproveRegistrationMethod, Administered<DecideRegistrationRequest, RegistrationStatus>((actor, r) => store.Decide(actor, r.RegistrationId, approve: true, r.Reason)))
        .AddMethod(RefuseRegistrationMethod, Administered<DecideRegistrationRequest, RegistrationStatus>((actor, r) => store.Decide(actor, r.RegistrationId, approve: false, r.Reason)))
        .AddMethod(ListNodesMethod, Administered<ListNodesRequest, ListNodesResponse>((_, _) => new ListNodesResponse { Nodes = { store.ListNodes() } }))
        .AddMethod(AddGlobalGroupMethod, Administered<AddGlobalGroupRequest, ChangeResult>((actor, r) => Result(store.AddGlobalGroup(actor, r.Group, r.Description))))
        .AddMethod(SetGlobalGroupMemberMethod, Administered<SetGlobalGroupMemberRequest, ChangeResult>((actor, r) => Result(store.SetGlobalGroupMember(actor, r.Group, r.Member, r.Present))))
        .AddMethod(RevokeCertificateMethod, Administered<RevokeCertificateRequest, ChangeResult>((actor, r) => Result(store.RevokeCertificate(actor, r.SerialNumber, r.Reason))))
        .AddMethod(ListCertificatesMethod, Administered<ListCertificatesRequest, ListCertificatesResponse>((_, _) => new ListCertificatesResponse { Certificates = { store.ListCertificates() } }))
        .AddMethod(QueryAuditLogMethod, Administered<QueryAuditLogRequest, QueryAuditLogResponse>((_, r) => new QueryAuditLogResponse
        {
            Entries = { store.QueryAuditLog((long)r.AfterSequence, r.Limit == 0 ? 100 : (int)Math.Min(r.Limit, 1000), r.Actor, r.Action).Select(ToProto) },
        }))
        .AddMethod(VerifyAuditLogMethod, Administered<VerifyAuditLogRequest, VerifyAuditLogResponse>((_, _) =>
        {
            var result = store.VerifyAuditLog();
            return new VerifyAuditLogResponse { Valid = result.Valid, Entries = (ulong)result.Entries, FirstBadSequence = (ulong)result.FirstBadSequence, Problem = result.Problem };
        }))
        .AddMethod(IssueAuditorCertificateMethod, Administered<IssueAuditorCertificateRequest, IssueAuditorCertificateResponse>((actor, r) =>
        {
            var issued = store.IssueAuditorCertificate(actor, r.Csr, r.Member, r.Name, r.ValidityDays);
            return new IssueAuditorCertificateResponse { Certificate = ByteString.CopyFrom(issued.Certificate), AuditSequence = (ulong)issued.AuditSequence };
        }))
        .Build();

    private UnaryServerMethod<TRequest, TResponse> Administered<TRequest, TResponse>(Func<string, TRequest, TResponse> handler)
        where TRequest : IMessage => (request, context) => Run(context, () => handler(RequireAdministrator(context), request));

    /// <summary>Who is calling, if an administrator; otherwise the refusal is recorded and thrown.</summary>
    private string RequireAdministrator(ServerCallContext context)
    {
        var certificate = context.ClientCertificate;
        if (certificate is not null && validator.Validate(certificate, CertificateProfile.Administrator).IsValid)
        {
            return certificate.Subject;
        }

        var actor = certificate is null ? "anonymous" : certificate.Subject;
        var action = "management" + context.Method[context.Method.LastIndexOf('/')..].Replace('/', '.');
        throw store.RecordUnauthorised(actor, action, new RegistryException(
            certificate is null ? StatusCode.Unauthenticated : StatusCode.PermissionDenied,
            RegistryErrors.NotAdministrator,
            "The registry management API requires an administrator certificate issued by this registry."));
    }

    private SubmitTreeHeadResponse SubmitTreeHead(NodeId node, SubmitTreeHeadRequest request)
    {
        try
        {
            return new SubmitTreeHeadResponse { LatestSize = (ulong)store.SubmitTreeHead(node, request) };
        }
        catch (RegistryException ex) when (ex.Code is RegistryErrors.TreeHeadConflict or RegistryErrors.InconsistentTreeHead)
        {
            // The head was signed and time-stamped, so this is not noise: either the node's log
            // was rewritten or the node is broken. An operator must look, whatever the node does next.
            RegistryLog.TreeHeadConflict(logger, node.ToString(), ex.Code);
            throw;
        }
    }

    /// <summary>
    /// The node calling, identified by its TLS certificate: a node authentication certificate of
    /// this registry's CA, not revoked, that the current global configuration lists for a node.
    /// </summary>
    private NodeId RequireNode(ServerCallContext context)
    {
        var certificate = context.ClientCertificate
            ?? throw new RegistryException(StatusCode.Unauthenticated, RegistryErrors.NotNode,
                "Submitting tree heads requires the node's authentication certificate.");
        var listed = validator.Validate(certificate, CertificateProfile.NodeAuthentication).IsValid
            ? store.CurrentView()?.FindNodeByAuthCertificate(certificate)
            : null;
        if (listed is null)
        {
            throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.NotNode,
                "The client certificate is not the authentication certificate of a node in the current global configuration.");
        }

        RequireNotRevoked(certificate);
        return listed.Id;
    }

    /// <summary>An auditor (member or national) whose certificate this registry issued and has not revoked.</summary>
    private AuditorIdentity RequireAuditor(ServerCallContext context)
    {
        var certificate = context.ClientCertificate
            ?? throw new RegistryException(StatusCode.Unauthenticated, RegistryErrors.NotAuditor, "Reading tree heads requires an auditor certificate.");
        var identity = AuditorIdentity.TryRead(certificate);
        if (identity is null
            || !string.Equals(identity.Instance, store.Instance, StringComparison.Ordinal)
            || !validator.Validate(certificate, identity.Profile).IsValid)
        {
            throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.NotAuditor,
                "The client certificate is not an auditor certificate of this registry.");
        }

        RequireNotRevoked(certificate);
        return identity;
    }

    /// <summary>The registry is its own OCSP responder, so it asks its own table rather than itself over HTTP.</summary>
    private void RequireNotRevoked(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        switch (store.FindCertificateStatus(certificate.SerialNumber))
        {
            case null:
                throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.CertificateRevoked,
                    "The client certificate was not issued by this registry, so its status is unknown.");
            case { Revoked: true }:
                throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.CertificateRevoked, "The client certificate is revoked.");
        }
    }

    private static NodeId ParseNode(string text) => NodeId.TryParse(text, out var node, out var error)
        ? node
        : throw RegistryException.Invalid(RegistryErrors.InvalidIdentifier, error.Message);

    private Task<TResponse> Run<TResponse>(ServerCallContext context, Func<TResponse> action)
    {
        try
        {
            return Task.FromResult(action());
        }
        catch (RegistryException ex)
        {
            RegistryLog.Refused(logger, context.Method, ex.Code, context.HttpContext.TraceIdentifier);
            throw RichStatus.Error(ex.StatusCode, ex.Code, ex.Message, context.HttpContext.TraceIdentifier);
        }
    }

    private static ChangeResult Result(ChangeOutcome outcome) =>
        new() { AuditSequence = (ulong)outcome.AuditSequence, ConfigurationVersion = outcome.ConfigurationVersion };

    private static AuditEntry ToProto(AdminAuditEntry entry) => new()
    {
        Sequence = (ulong)entry.Sequence,
        At = Timestamp.FromDateTimeOffset(entry.At),
        Actor = entry.Actor,
        Action = entry.Action,
        Accepted = entry.Accepted,
        ErrorCode = entry.ErrorCode,
        Before = entry.Before,
        After = entry.After,
        Hash = Convert.ToHexString(entry.Hash),
        PreviousHash = Convert.ToHexString(entry.PreviousHash),
    };

    private static Method<TRequest, TResponse> P<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() => ProtoMethods.Create<TRequest, TResponse>(Public, name);

    private static Method<TRequest, TResponse> A<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() => ProtoMethods.Create<TRequest, TResponse>(Admin, name);
}
