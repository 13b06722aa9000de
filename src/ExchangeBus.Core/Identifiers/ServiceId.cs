// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.Identifiers;

/// <summary>
/// A service in X-Road form <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION]</c>, e.g.
/// <c>VN/GOV/000.00.00.H01/registry/getCitizen/v1</c>. A service without a version and the
/// same service with one are different identifiers, as in X-Road.
/// </summary>
public sealed record ServiceId : IParsable<ServiceId>
{
    internal static readonly IdentifierShape Shape = new(
        "service identifier", "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION]", 5,
        ["instance", "member class", "member code", "subsystem code", "service code", "version"]);

    private ServiceId(SubsystemId subsystem, string serviceCode, string? version)
    {
        Subsystem = subsystem;
        ServiceCode = serviceCode;
        Version = version;
    }

    /// <summary>The subsystem that provides the service.</summary>
    public SubsystemId Subsystem { get; }

    /// <summary>The service code, e.g. <c>getCitizen</c>.</summary>
    public string ServiceCode { get; }

    /// <summary>The service version, e.g. <c>v1</c>, or null when the identifier has none.</summary>
    public string? Version { get; }

    /// <summary>Builds a service identifier from its provider subsystem, code and optional version.</summary>
    /// <exception cref="IdentifierFormatException">The code or version is empty, too long or has an illegal character.</exception>
    public static ServiceId Create(SubsystemId subsystem, string serviceCode, string? version = null)
    {
        ArgumentNullException.ThrowIfNull(subsystem);
        return new ServiceId(
            subsystem,
            IdentifierSyntax.RequireValidPart(serviceCode, Shape, 4),
            version is null ? null : IdentifierSyntax.RequireValidPart(version, Shape, 5));
    }

    /// <summary>Parses <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION]</c>.</summary>
    /// <exception cref="IdentifierFormatException">The text is not a valid service identifier (also for null).</exception>
    public static ServiceId Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new IdentifierFormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out ServiceId? result) =>
        TryParse(text, out result, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out ServiceId? result,
        [NotNullWhen(false)] out IdentifierError? error)
    {
        if (!IdentifierSyntax.TrySplit(text, Shape, out var parts, out error))
        {
            result = null;
            return false;
        }

        result = new ServiceId(SubsystemId.FromParts(parts), parts[4], parts.Length == 6 ? parts[5] : null);
        return true;
    }

    /// <summary>The canonical form <c>INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE[/VERSION]</c>.</summary>
    public override string ToString() =>
        Version is null ? $"{Subsystem}/{ServiceCode}" : $"{Subsystem}/{ServiceCode}/{Version}";

    static ServiceId IParsable<ServiceId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<ServiceId>.TryParse(
        [NotNullWhen(true)] string? s, IFormatProvider? provider, [MaybeNullWhen(false)] out ServiceId result) =>
        TryParse(s, out result);
}
