// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics.CodeAnalysis;

namespace ExchangeBus.Core.GlobalConf;

/// <summary>The outcome of <see cref="GlobalConfigurationVerifier.Verify(ReadOnlySpan{byte}, GlobalConfigurationView?)"/>.</summary>
public sealed class GlobalConfigurationVerificationResult
{
    private GlobalConfigurationVerificationResult(
        GlobalConfigurationView? view, IReadOnlyList<GlobalConfError> errors, ulong? receivedVersion)
    {
        View = view;
        Errors = errors;
        ReceivedVersion = receivedVersion;
    }

    /// <summary>True when the configuration verified and <see cref="View"/> is ready to use.</summary>
    [MemberNotNullWhen(true, nameof(View))]
    [MemberNotNullWhen(false, nameof(Code))]
    public bool IsValid => View is not null;

    /// <summary>The verified configuration, or null when it was refused.</summary>
    public GlobalConfigurationView? View { get; }

    /// <summary>
    /// Why it was refused: one error, except for <see cref="GlobalConfErrors.InvalidContent"/>,
    /// where every content problem is listed. Empty when valid.
    /// </summary>
    public IReadOnlyList<GlobalConfError> Errors { get; }

    /// <summary>The code of the refusal (all errors share it), or null when valid.</summary>
    public string? Code => Errors.Count == 0 ? null : Errors[0].Code;

    /// <summary>
    /// The version the configuration claims, once its signature has verified (so it can be
    /// logged for a rollback); null before that.
    /// </summary>
    public ulong? ReceivedVersion { get; }

    public override string ToString() => IsValid ? $"Valid: {View}" : string.Join("; ", Errors);

    internal static GlobalConfigurationVerificationResult Valid(GlobalConfigurationView view) =>
        new(view, [], view.Version);

    internal static GlobalConfigurationVerificationResult Refused(string code, string message, ulong? receivedVersion = null) =>
        new(null, [new GlobalConfError(code, message)], receivedVersion);

    internal static GlobalConfigurationVerificationResult Refused(IReadOnlyList<GlobalConfError> errors, ulong receivedVersion) =>
        new(null, errors, receivedVersion);
}
