// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Errors;

/// <summary>
/// Stable error codes the registry answers with; clients and scripts match on these. Here in Core,
/// not in the registry's project, because its clients match them too: the node's log verifier runs
/// the registry's tree-head checks (<see cref="TreeHeads.TreeHeadChecks"/>) and reads their codes.
/// </summary>
public static class RegistryErrors
{
    public const string InvalidIdentifier = "Registry.InvalidIdentifier";
    public const string InvalidArgument = "Registry.InvalidArgument";

    /// <summary>The data folder or PostgreSQL database holds no registry: `xbus registry init` has not run on it.</summary>
    public const string NotInitialised = "Registry.NotInitialised";

    /// <summary>`xbus registry init` on a folder or PostgreSQL database that holds a registry already.</summary>
    public const string AlreadyInitialised = "Registry.AlreadyInitialised";
    public const string WrongInstance = "Registry.WrongInstance";
    public const string DuplicateMemberClass = "Registry.DuplicateMemberClass";
    public const string DuplicateMember = "Registry.DuplicateMember";
    public const string DuplicateSubsystem = "Registry.DuplicateSubsystem";
    public const string DuplicateGroup = "Registry.DuplicateGroup";
    public const string UnknownMemberClass = "Registry.UnknownMemberClass";
    public const string UnknownMember = "Registry.UnknownMember";
    public const string UnknownSubsystem = "Registry.UnknownSubsystem";
    public const string UnknownGroup = "Registry.UnknownGroup";
    public const string UnknownRegistration = "Registry.UnknownRegistration";
    public const string UnknownCertificate = "Registry.UnknownCertificate";
    public const string MemberDisabled = "Registry.MemberDisabled";
    public const string RegistrationNotPending = "Registry.RegistrationNotPending";
    public const string RegistrationPending = "Registry.RegistrationAlreadyPending";

    /// <summary>A node asked to be certified for an address the registry or another node uses.</summary>
    public const string AddressInUse = "Registry.AddressInUse";
    public const string AlreadyRevoked = "Registry.AlreadyRevoked";
    public const string InvalidCsr = "Registry.InvalidCsr";
    public const string WrongKeyType = "Registry.WrongKeyType";
    public const string CsrSubjectMismatch = "Registry.CsrSubjectMismatch";
    public const string BadRegistrationSignature = "Registry.BadRegistrationSignature";
    public const string NotAdministrator = "Registry.NotAdministrator";
    public const string InvalidConfiguration = "Registry.InvalidConfiguration";

    // Callers of RegistryService methods that need a certificate.
    public const string NotNode = "Registry.NotNode";
    public const string NotAuditor = "Registry.NotAuditor";
    public const string CertificateRevoked = "Registry.CertificateRevoked";

    // Tree heads, one code per check (docs/registry.md, "Tree heads").
    public const string MalformedTreeHead = "Registry.MalformedTreeHead";
    public const string TreeHeadWrongNode = "Registry.TreeHeadWrongNode";
    public const string InvalidSignerCertificate = "Registry.InvalidSignerCertificate";
    public const string SignerCertificateRevoked = "Registry.SignerCertificateRevoked";
    public const string InvalidTreeHeadSignature = "Registry.InvalidTreeHeadSignature";
    public const string InvalidTimeStamp = "Registry.InvalidTimeStamp";
    public const string TreeHeadTooSmall = "Registry.TreeHeadTooSmall";
    public const string PreviousSizeMismatch = "Registry.PreviousSizeMismatch";
    public const string InconsistentTreeHead = "Registry.InconsistentTreeHead";
    public const string TreeHeadConflict = "Registry.TreeHeadConflict";
    public const string InternalError = "Registry.InternalError";

    // Anonymous registration (docs/registry.md, "Registration"; docs/reliability.md, "Hostile").
    public const string RateLimited = "Registry.RateLimited";
    public const string TooManyPendingRegistrations = "Registry.TooManyPendingRegistrations";
    public const string RegistrationExpired = "Registry.RegistrationExpired";
    public const string FingerprintRequired = "Registry.FingerprintRequired";
    public const string FingerprintMismatch = "Registry.FingerprintMismatch";
}
