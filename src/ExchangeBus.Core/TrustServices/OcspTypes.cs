// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.TrustServices;

/// <summary>OCSPResponseStatus (RFC 6960 §4.2.1); 4 is not used.</summary>
public enum OcspResponseStatus
{
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SignatureRequired = 5,
    Unauthorized = 6,
}

/// <summary>CertStatus (RFC 6960 §4.2.1).</summary>
public enum OcspCertificateStatus
{
    Good,
    Revoked,
    Unknown,
}

/// <summary>CRLReason (RFC 5280 §5.3.1), with the same numbers; 7 is not used.</summary>
public enum RevocationReason
{
    Unspecified = 0,
    KeyCompromise = 1,
    CACompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AACompromise = 10,
}
