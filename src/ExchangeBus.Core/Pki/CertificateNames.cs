// SPDX-License-Identifier: Apache-2.0
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace ExchangeBus.Core.Pki;

/// <summary>
/// How bus identities are written into certificate subjects (docs/design/certificates.md).
/// Each identifier part has its own attribute, exactly once, so a verifier compares attribute
/// values instead of parsing a composite string:
/// <list type="bullet">
/// <item>member signing: <c>DC=&lt;instance&gt;, O=&lt;member class&gt;, CN=&lt;member code&gt;</c></item>
/// <item>node authentication: <c>DC=&lt;instance&gt;, O=&lt;member class&gt;, OU=&lt;member code&gt;, CN=&lt;node code&gt;</c></item>
/// <item>central services: <c>DC=&lt;instance&gt;, O=&lt;organisation&gt;, CN=&lt;service&gt;</c></item>
/// <item>people (administrators): <c>DC=&lt;instance&gt;, O=&lt;organisation&gt;, OU=&lt;role&gt;, CN=&lt;name&gt;</c></item>
/// <item>member auditor: <c>DC=&lt;instance&gt;, O=&lt;member class&gt;, OU=&lt;member code&gt;, OU=Auditors, CN=&lt;name&gt;</c></item>
/// <item>national auditor: <c>DC=&lt;instance&gt;, OU=National Auditors, CN=&lt;name&gt;</c></item>
/// </list>
/// The instance is in DC, not C: countryName is exactly two letters (X.520), and instance codes
/// such as "EE-TEST" are not.
/// </summary>
public static class CertificateNames
{
    private const string DomainComponentOid = "0.9.2342.19200300.100.1.25";
    private const string OrganizationOid = "2.5.4.10";
    private const string OrganizationalUnitOid = "2.5.4.11";
    private const string CommonNameOid = "2.5.4.3";

    /// <summary>X.520 upper bound for CN, O and OU.</summary>
    private const int MaxValueLength = 64;

    /// <summary>The fixed OU that ends a member auditor's subject.</summary>
    public const string MemberAuditorUnit = "Auditors";

    /// <summary>The fixed OU of a national auditor's subject.</summary>
    public const string NationalAuditorUnit = "National Auditors";

    /// <summary>Subject of a member's signing certificate.</summary>
    public static X500DistinguishedName MemberSigning(string instance, string memberClass, string memberCode) =>
        Build(instance, memberClass, null, memberCode);

    /// <summary>Subject of a node's authentication (TLS) certificate.</summary>
    public static X500DistinguishedName NodeAuthentication(
        string instance, string memberClass, string memberCode, string nodeCode) =>
        Build(instance, memberClass, memberCode, nodeCode);

    /// <summary>Subject of a certificate for a service the central authority runs (TSA, OCSP, configuration signing, registry TLS, CA).</summary>
    public static X500DistinguishedName CentralService(string instance, string organisation, string service) =>
        Build(instance, organisation, null, service);

    /// <summary>Subject of a person's client certificate; <paramref name="role"/> is e.g. "Administrators" or "Auditors".</summary>
    public static X500DistinguishedName Person(string instance, string organisation, string role, string name) =>
        Build(instance, organisation, role, name);

    /// <summary>
    /// Subject of a member auditor's certificate. Five attributes, so that no reading of it can
    /// take it for the four-attribute subject of a node authentication certificate of that member
    /// (whose CN is a node code), even before the extended key usages differ.
    /// </summary>
    public static X500DistinguishedName MemberAuditor(string instance, string memberClass, string memberCode, string name) => BuildParts(
        (DomainComponentOid, instance, true),
        (OrganizationOid, memberClass, false),
        (OrganizationalUnitOid, memberCode, false),
        (OrganizationalUnitOid, MemberAuditorUnit, false),
        (CommonNameOid, name, false));

    /// <summary>Subject of a national auditor's certificate: no member, a shape no other certificate has.</summary>
    public static X500DistinguishedName NationalAuditor(string instance, string name) => BuildParts(
        (DomainComponentOid, instance, true),
        (OrganizationalUnitOid, NationalAuditorUnit, false),
        (CommonNameOid, name, false));

    /// <summary>Reads a member auditor subject: (instance, member class, member code, name), or null unless exactly that shape.</summary>
    public static (MemberSubject Member, string Name)? ReadMemberAuditor(X500DistinguishedName subject)
    {
        var parts = ReadShape(subject, [DomainComponentOid, OrganizationOid, OrganizationalUnitOid, OrganizationalUnitOid, CommonNameOid]);
        return parts is null || !string.Equals(parts[3], MemberAuditorUnit, StringComparison.Ordinal)
            ? null
            : (new MemberSubject(parts[0], parts[1], parts[2], NodeCode: null), parts[4]);
    }

    /// <summary>Reads a national auditor subject: (instance, name), or null unless exactly that shape.</summary>
    public static (string Instance, string Name)? ReadNationalAuditor(X500DistinguishedName subject)
    {
        var parts = ReadShape(subject, [DomainComponentOid, OrganizationalUnitOid, CommonNameOid]);
        return parts is null || !string.Equals(parts[1], NationalAuditorUnit, StringComparison.Ordinal)
            ? null
            : (parts[0], parts[2]);
    }

    /// <summary>
    /// Reads a member signing subject. Returns null unless the name has exactly the shape
    /// <c>DC, O, CN</c> (one value each, nothing else).
    /// </summary>
    public static MemberSubject? ReadMemberSigning(X500DistinguishedName subject)
    {
        var parts = ReadShape(subject, [DomainComponentOid, OrganizationOid, CommonNameOid]);
        return parts is null ? null : new MemberSubject(parts[0], parts[1], parts[2], NodeCode: null);
    }

    /// <summary>
    /// Reads a node authentication subject. Returns null unless the name has exactly the shape
    /// <c>DC, O, OU, CN</c> (one value each, nothing else).
    /// </summary>
    public static MemberSubject? ReadNodeAuthentication(X500DistinguishedName subject)
    {
        var parts = ReadShape(subject, [DomainComponentOid, OrganizationOid, OrganizationalUnitOid, CommonNameOid]);
        return parts is null ? null : new MemberSubject(parts[0], parts[1], parts[2], parts[3]);
    }

    internal static X500DistinguishedName Build(string instance, string organisation, string? unit, string common) =>
        unit is null
            ? BuildParts((DomainComponentOid, instance, true), (OrganizationOid, organisation, false), (CommonNameOid, common, false))
            : BuildParts(
                (DomainComponentOid, instance, true),
                (OrganizationOid, organisation, false),
                (OrganizationalUnitOid, unit, false),
                (CommonNameOid, common, false));

    /// <summary>A name from its attributes, most significant first; the instance (DC) is ASCII only.</summary>
    private static X500DistinguishedName BuildParts(params (string Oid, string Value, bool AsciiOnly)[] parts)
    {
        foreach (var (oid, value, asciiOnly) in parts)
        {
            CheckValue(value, NameOf(oid), asciiOnly);
        }

        // Encoded most significant first (DC, O, OU, CN), as usual in X.509 and as openssl prints
        // it. The builder encodes in the reverse of the order attributes are added (so that
        // .NET's reversed, RFC 4514-style Name string reads in adding order), hence CN first here.
        var builder = new X500DistinguishedNameBuilder();
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            var (oid, value, _) = parts[i];
            switch (oid)
            {
                case DomainComponentOid:
                    builder.AddDomainComponent(value);
                    break;
                case OrganizationOid:
                    builder.AddOrganizationName(value);
                    break;
                case OrganizationalUnitOid:
                    builder.AddOrganizationalUnitName(value);
                    break;
                default:
                    builder.AddCommonName(value);
                    break;
            }
        }

        return builder.Build();
    }

    private static string NameOf(string oid) => oid switch
    {
        DomainComponentOid => "instance",
        OrganizationOid => "organisation",
        OrganizationalUnitOid => "unit",
        _ => "common",
    };

    private static void CheckValue(string value, string name, bool asciiOnly)
    {
        ArgumentNullException.ThrowIfNull(value, name);

        // Names are compared exactly by verifiers, so values that display the same but differ
        // (surrounding spaces, control characters) are refused at issue time.
        var bad = value.Length == 0
            || value.Length > MaxValueLength
            || char.IsWhiteSpace(value[0])
            || char.IsWhiteSpace(value[^1])
            || value.Any(char.IsControl)
            || (asciiOnly && value.Any(c => c > '~'));
        if (bad)
        {
            throw new PkiException(
                PkiErrors.IssueInvalidName,
                $"Name part '{name}' must be 1-{MaxValueLength} characters without control characters or surrounding spaces"
                + (asciiOnly ? " and ASCII only." : "."));
        }
    }

    private static string[]? ReadShape(X500DistinguishedName subject, string[] expectedOids)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var values = new string[expectedOids.Length];
        var index = 0;
        try
        {
            // In encoding order: DC first.
            foreach (var rdn in subject.EnumerateRelativeDistinguishedNames(reversed: false))
            {
                if (index >= expectedOids.Length || rdn.HasMultipleElements)
                {
                    return null;
                }

                if (!string.Equals(rdn.GetSingleElementType().Value, expectedOids[index], StringComparison.Ordinal))
                {
                    return null;
                }

                var value = rdn.GetSingleElementValue();
                if (string.IsNullOrEmpty(value))
                {
                    return null;
                }

                values[index++] = value;
            }
        }
        catch (Exception ex) when (ex is AsnContentException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }

        return index == expectedOids.Length ? values : null;
    }
}

/// <summary>
/// The member (and, for authentication certificates, the node) a certificate subject names.
/// <see cref="NodeCode"/> is null for signing certificates.
/// </summary>
public sealed record MemberSubject(string Instance, string MemberClass, string MemberCode, string? NodeCode);
