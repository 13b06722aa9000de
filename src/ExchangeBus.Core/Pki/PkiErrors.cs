// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Pki;

/// <summary>
/// Stable error codes for the PKI module. Callers (the CLI, gRPC status details, audit events)
/// match on these strings, so they never change once released; messages may.
/// </summary>
public static class PkiErrors
{
    public const string CsrTooLarge = "Csr.TooLarge";
    public const string CsrMalformed = "Csr.Malformed";
    public const string CsrBadSignature = "Csr.BadSignature";

    public const string KeyUnsupportedAlgorithm = "Key.UnsupportedAlgorithm";
    public const string KeyUnsupportedCurve = "Key.UnsupportedCurve";
    public const string KeyMalformed = "Key.Malformed";
    public const string KeyInsecurePermissions = "Key.InsecurePermissions";
    public const string KeyMismatch = "Key.Mismatch";

    public const string FileTooLarge = "File.TooLarge";
    public const string FileNotFound = "File.NotFound";
    public const string FileAlreadyExists = "File.AlreadyExists";
    public const string FileIo = "File.Io";

    public const string CertificateMalformed = "Certificate.Malformed";
    public const string CertificateUntrustedRoot = "Certificate.UntrustedRoot";
    public const string CertificateExpired = "Certificate.Expired";
    public const string CertificateNotYetValid = "Certificate.NotYetValid";
    public const string CertificateWrongUsage = "Certificate.WrongUsage";
    public const string CertificateInvalidSignature = "Certificate.InvalidSignature";
    public const string CertificateInvalidExtension = "Certificate.InvalidExtension";
    public const string CertificateInvalidChain = "Certificate.InvalidChain";

    public const string IssueNotACertificateAuthority = "Issue.NotACertificateAuthority";
    public const string IssueAuthorityExpired = "Issue.AuthorityExpired";
    public const string IssueMissingSubjectAlternativeName = "Issue.MissingSubjectAlternativeName";
    public const string IssueUnexpectedSubjectAlternativeName = "Issue.UnexpectedSubjectAlternativeName";
    public const string IssueInvalidName = "Issue.InvalidName";
    public const string IssueInvalidValidity = "Issue.InvalidValidity";

    public const string DevelopmentPkiAlreadyExists = "DevPki.AlreadyExists";
}

/// <summary>One problem, with a stable <see cref="Code"/> from <see cref="PkiErrors"/>.</summary>
public sealed record PkiError(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>
/// A fault in PKI work the caller asked for (a key file that is not ours, a CA that cannot issue).
/// Untrusted input (a CSR, a peer's certificate) gives a result instead, never this.
/// </summary>
public sealed class PkiException : Exception
{
    public PkiException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public PkiException(string code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    public string Code { get; }
}
