// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.GlobalConf;

/// <summary>
/// Stable error codes for the global configuration and the configuration anchor. Nodes, the CLI,
/// gRPC status details and audit events match on these strings, so they never change once
/// released; messages may.
/// </summary>
public static class GlobalConfErrors
{
    /// <summary>The bytes are not a <c>SignedGlobalConfiguration</c>, or the signed bytes are not a <c>GlobalConfiguration</c>.</summary>
    public const string Malformed = "GlobalConf.Malformed";

    /// <summary>Larger than the verifier's bound; refused before anything is parsed.</summary>
    public const string TooLarge = "GlobalConf.TooLarge";

    /// <summary>Signed by a certificate that is not one of the anchor's configuration-signing certificates.</summary>
    public const string UnknownSigner = "GlobalConf.UnknownSigner";

    /// <summary>The signature does not verify over the configuration bytes.</summary>
    public const string InvalidSignature = "GlobalConf.InvalidSignature";

    /// <summary>Validly signed, but for another instance than the anchor's.</summary>
    public const string WrongInstance = "GlobalConf.WrongInstance";

    /// <summary>Older than the configuration the node has, or the same version with other content.</summary>
    public const string Rollback = "GlobalConf.Rollback";

    /// <summary>Exactly the configuration the node already has: nothing to do, nothing wrong.</summary>
    public const string NotNewer = "GlobalConf.NotNewer";

    /// <summary>Its <c>expires_at</c> has passed.</summary>
    public const string Expired = "GlobalConf.Expired";

    /// <summary>Its <c>created_at</c> is later than now plus the allowed clock skew.</summary>
    public const string FromTheFuture = "GlobalConf.FromTheFuture";

    /// <summary>Validly signed, but its content breaks a rule (duplicates, dangling references, bad identifiers, parameters out of range).</summary>
    public const string InvalidContent = "GlobalConf.InvalidContent";

    /// <summary>
    /// The node's cached configuration has expired and no newer one could be verified: the node
    /// fails closed. X-Road's name for it; the transport layer puts it under its own prefix
    /// (<c>Server.ClientProxy.OutdatedGlobalConf</c> and the like).
    /// </summary>
    public const string OutdatedGlobalConf = "OutdatedGlobalConf";

    public const string AnchorNotFound = "Anchor.NotFound";
    public const string AnchorTooLarge = "Anchor.TooLarge";
    public const string AnchorInsecurePermissions = "Anchor.InsecurePermissions";
    public const string AnchorAlreadyExists = "Anchor.AlreadyExists";
    public const string AnchorUnreadable = "Anchor.Unreadable";

    /// <summary>Not JSON, or not the anchor's shape (missing, duplicate, unknown or mistyped fields).</summary>
    public const string AnchorMalformed = "Anchor.Malformed";

    /// <summary>The <c>format</c> field names a version of the anchor format this code does not read.</summary>
    public const string AnchorUnsupportedFormat = "Anchor.UnsupportedFormat";

    public const string AnchorInvalidInstance = "Anchor.InvalidInstance";
    public const string AnchorInvalidRegistryAddress = "Anchor.InvalidRegistryAddress";
    public const string AnchorInvalidCreatedAt = "Anchor.InvalidCreatedAt";
    public const string AnchorInvalidSigningCertificate = "Anchor.InvalidSigningCertificate";
    public const string AnchorInvalidTrustRoot = "Anchor.InvalidTrustRoot";

    /// <summary>A pinned registry TLS certificate is not one (a CA, or not a certificate).</summary>
    public const string AnchorInvalidRegistryCertificate = "Anchor.InvalidRegistryCertificate";

    /// <summary>
    /// The anchor pins no registry TLS certificate: written before clients pinned it, so any
    /// server certificate of the bus's CA (a node's too) would pass for the registry's.
    /// </summary>
    public const string AnchorRegistryCertificateMissing = "Anchor.RegistryCertificateMissing";
}

/// <summary>
/// One problem, with a stable <see cref="Code"/> from <see cref="GlobalConfErrors"/>. For content
/// problems <see cref="Path"/> says where, in protobuf field names (<c>members[12].subsystems[3]</c>).
/// </summary>
public sealed record GlobalConfError(string Code, string Message, string? Path = null)
{
    public override string ToString() => Path is null ? $"{Code}: {Message}" : $"{Code}: {Path}: {Message}";
}
