// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.GlobalConf;

/// <summary>
/// An anchor file or anchor content that cannot be used. The anchor is what an operator installs,
/// so a bad one is a fault to fix, not an expected outcome; every problem found is listed.
/// </summary>
public sealed class ConfigurationAnchorException : Exception
{
    public ConfigurationAnchorException(IReadOnlyList<GlobalConfError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    public ConfigurationAnchorException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Errors = [new GlobalConfError(code, message)];
    }

    /// <summary>The first problem's code, one of the <c>Anchor*</c> codes in <see cref="GlobalConfErrors"/>.</summary>
    public string Code => Errors[0].Code;

    public IReadOnlyList<GlobalConfError> Errors { get; }

    private static string Describe(IReadOnlyList<GlobalConfError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            throw new ArgumentException("At least one error is needed.", nameof(errors));
        }

        return errors.Count == 1 ? errors[0].Message : string.Join(" ", errors.Select(e => e.Message));
    }
}
