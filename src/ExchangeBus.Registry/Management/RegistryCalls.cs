// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Contracts.Registry.V1;
using System.Data.Common;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Storage;
using ExchangeBus.Grpc;
using Grpc.Core;
using ExchangeBus.Core.AdminAudit;
using ExchangeBus.Registry.Storage;
using Google.Protobuf.WellKnownTypes;

namespace ExchangeBus.Registry.Management;

/// <summary>
/// What the registry's two gRPC services share: who the caller is and how a refusal is answered.
/// The services: <c>RegistryService</c> answers any TLS caller for the
/// configuration (it is signed) and registrations (they prove themselves); tree heads are
/// submitted only by a listed node with its authentication certificate and read only by an
/// auditor. <c>RegistryManagement</c> answers only a caller whose TLS certificate is an
/// administrator certificate issued by this registry's CA; anyone else is refused. Refusals of
/// callers without a certificate are counted (<see cref="RegistryMetrics"/>) and logged, never
/// stored, so strangers cannot fill the disk; a certificate holder's refusal is in the admin
/// audit log. The listener asks for client certificates without
/// requiring one, so each method decides.
/// </summary>
public sealed class RegistryCalls(RegistryStore store, CertificateChainValidator validator, RegistryMetrics metrics, ILogger<RegistryCalls> logger)
{
    /// <summary>At most this many heads per GetNodeTreeHeads answer (the contract's bound).</summary>
    public const int MaxTreeHeadsPerCall = 1000;

    /// <summary>Runs a management call for an administrator; anyone else is refused, and the refusal recorded.</summary>
    public Task<TResponse> Administered<TRequest, TResponse>(TRequest request, ServerCallContext context, Func<string, TRequest, TResponse> handler) =>
        Run(context, () => handler(RequireAdministrator(context), request));

    /// <summary>
    /// Who is calling, if an administrator: a certificate with the administrator profile that
    /// chains to this registry's CA, that the registry recorded when it issued it, and that is not
    /// revoked. Checked on every call, so a revocation takes effect on connections already open.
    /// Otherwise the refusal is recorded and thrown.
    /// </summary>
    private string RequireAdministrator(ServerCallContext context)
    {
        var certificate = context.ClientCertificate;
        const string Message = "The registry management API requires an administrator certificate issued by this registry.";
        if (certificate is null)
        {
            // Anyone can call without a certificate: counted and logged, not kept in an audit log they could fill.
            metrics.AnonymousRefused(RegistryErrors.NotAdministrator);
            throw new RegistryException(StatusCode.Unauthenticated, RegistryErrors.NotAdministrator, Message);
        }

        var refusal = !validator.Validate(certificate, CertificateProfile.Administrator).IsValid
            ? new RegistryException(StatusCode.PermissionDenied, RegistryErrors.NotAdministrator, Message)
            : store.FindCertificateStatus(certificate.SerialNumber) switch
            {
                // Made with the CA's key outside the registry (`xbus pki issue`): nobody can revoke
                // it, so it is not taken. `xbus registry admin issue` makes one that is recorded.
                null => new RegistryException(StatusCode.PermissionDenied, RegistryErrors.NotAdministrator,
                    "The administrator certificate was not issued through this registry, so it cannot be revoked and is not accepted."),
                { Revoked: true } => new RegistryException(StatusCode.PermissionDenied, RegistryErrors.CertificateRevoked,
                    "The administrator certificate is revoked."),
                _ => null,
            };
        if (refusal is null)
        {
            return certificate.Subject;
        }

        var action = "management" + context.Method[context.Method.LastIndexOf('/')..].Replace('/', '.');
        throw store.RecordUnauthorised(certificate.Subject, action, refusal);
    }

    /// <summary>
    /// Runs a call anyone may make (registration): a refusal is counted in
    /// <see cref="RegistryMetrics"/> and logged with its code, and nothing of it is stored.
    /// </summary>
    public Task<TResponse> Anonymous<TResponse>(ServerCallContext context, Func<TResponse> action) =>
        Run(context, () =>
        {
            try
            {
                return action();
            }
            catch (RegistryException ex)
            {
                metrics.AnonymousRefused(ex.Code);
                throw;
            }
        });

    public SubmitTreeHeadResponse SubmitTreeHead(NodeId node, SubmitTreeHeadRequest request)
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
    public NodeId RequireNode(ServerCallContext context)
    {
        var certificate = context.ClientCertificate
            ?? throw new RegistryException(StatusCode.Unauthenticated, RegistryErrors.NotNode,
                "Submitting tree heads requires the node's authentication certificate.");
        var chained = validator.Validate(certificate, CertificateProfile.NodeAuthentication).IsValid;

        // Revoked before listed: the configuration leaves a revoked node out, and the caller is
        // better told why than that it is not a node.
        if (chained)
        {
            RequireNotRevoked(certificate);
        }

        var listed = chained ? store.CurrentView()?.FindNodeByAuthCertificate(certificate) : null;
        return listed?.Id ?? throw new RegistryException(StatusCode.PermissionDenied, RegistryErrors.NotNode,
            "The client certificate is not the authentication certificate of a node in the current global configuration.");
    }

    /// <summary>An auditor (member or national) whose certificate this registry issued and has not revoked.</summary>
    public AuditorIdentity RequireAuditor(ServerCallContext context)
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

    public static NodeId ParseNode(string text) => NodeId.TryParse(text, out var node, out var error)
        ? node
        : throw RegistryException.Invalid(RegistryErrors.InvalidIdentifier, error.Message);

    public Task<TResponse> Run<TResponse>(ServerCallContext context, Func<TResponse> action)
    {
        try
        {
            return Task.FromResult(action());
        }
        catch (RegistryException ex)
        {
            RegistryLog.Refused(logger, context.Method, ex.Code, context.CorrelationId);
            throw RichStatus.Error(ex.StatusCode, ex.Code, ex.Message, context.CorrelationId);
        }
        catch (Exception ex) when (ex is StorageException { Code: StorageErrors.Unavailable } or DbException { IsTransient: true })
        {
            // The database is down, or another writer kept the lock too long: the caller may try
            // again, which UNAVAILABLE tells a gRPC client; Server.InternalError would say the
            // registry is broken. What the database said stays in the log.
            RegistryLog.StorageUnavailable(logger, context.Method, context.CorrelationId, ex);
            throw RichStatus.Error(StatusCode.Unavailable, StorageErrors.Unavailable, "The registry's database is unavailable; try again later.", context.CorrelationId);
        }
    }

    public static ChangeResult Result(ChangeOutcome outcome) =>
        new() { AuditSequence = (ulong)outcome.AuditSequence, ConfigurationVersion = outcome.ConfigurationVersion };

    public static AuditEntry ToProto(AdminAuditEntry entry) => new()
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
}
