// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using Google.Protobuf;

namespace ExchangeBus.Core.Registration;

/// <summary>What a node sends to join: CSRs for both keys, the whole signed with the authentication key.</summary>
public static class NodeRegistration
{
    public static SignedRegistrationRequest Create(NodeId node, string address, ECDsa authenticationKey, ECDsa signingKey)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(authenticationKey);
        ArgumentNullException.ThrowIfNull(signingKey);
        var owner = node.Owner;
        var request = new RegistrationRequest
        {
            Member = owner.ToString(),
            NodeCode = node.NodeCode,
            Address = address,
            AuthCsr = ByteString.CopyFrom(CertificateSigningRequests.Create(
                CertificateNames.NodeAuthentication(owner.Instance, owner.MemberClass, owner.MemberCode, node.NodeCode), authenticationKey)),
            SigningCsr = ByteString.CopyFrom(CertificateSigningRequests.Create(
                CertificateNames.MemberSigning(owner.Instance, owner.MemberClass, owner.MemberCode), signingKey)),
        };
        return Sign(request, authenticationKey);
    }

    /// <summary>Signs request bytes as they will be sent; the registry verifies exactly these bytes.</summary>
    public static SignedRegistrationRequest Sign(RegistrationRequest request, ECDsa authenticationKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(authenticationKey);
        var bytes = request.ToByteArray();
        return new SignedRegistrationRequest
        {
            Request = ByteString.CopyFrom(bytes),
            Signature = ByteString.CopyFrom(authenticationKey.SignData(bytes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
        };
    }
}
