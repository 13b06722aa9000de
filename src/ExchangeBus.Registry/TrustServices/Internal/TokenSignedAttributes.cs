// SPDX-License-Identifier: Apache-2.0
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Cms;
using Attribute = Org.BouncyCastle.Asn1.Cms.Attribute;
using AttributeTable = Org.BouncyCastle.Asn1.Cms.AttributeTable;

namespace ExchangeBus.Registry.TrustServices.Internal;

/// <summary>
/// The signed attributes of a token's SignerInfo: content type and message digest only (the
/// generator adds the ESS signing-certificate attribute). BouncyCastle's default would add a
/// signingTime from the machine clock, which would disagree with genTime from the injected
/// <see cref="TimeProvider"/> and says nothing genTime does not.
/// </summary>
internal sealed class TokenSignedAttributes : CmsAttributeTableGenerator
{
    public AttributeTable GetAttributes(IDictionary<CmsAttributeTableParameter, object> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var contentType = (DerObjectIdentifier)parameters[CmsAttributeTableParameter.ContentType];
        var digest = (byte[])parameters[CmsAttributeTableParameter.Digest];
        return new AttributeTable(new Asn1EncodableVector(
            new Attribute(CmsAttributes.ContentType, new DerSet(contentType)),
            new Attribute(CmsAttributes.MessageDigest, new DerSet(new DerOctetString(digest)))));
    }
}
