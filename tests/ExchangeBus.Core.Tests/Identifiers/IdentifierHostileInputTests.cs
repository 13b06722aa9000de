// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.Identifiers;

/// <summary>
/// Inputs an attacker or a broken client might send. Every parser must reject each of them
/// with an <see cref="IdentifierFormatException"/> (nothing else), and the message must stay
/// short, printable ASCII, whatever the input held.
/// </summary>
public sealed class IdentifierHostileInputTests
{
    // Longest message we accept: the template, the part name, a 64-character excerpt escaped
    // at up to six characters each, and the fixed wording.
    private const int MaxMessageLength = 700;

    private static readonly string[] Hostile =
    [
        "",
        "/",
        "//",
        "///",
        "////",
        "/////",
        "//////",
        new string('/', 10_000),
        new string('A', 10_000),
        "VN/GOV/" + new string('\u0007', 10_000),
        "VN/GOV/G01\0",
        "VN/GOV/G\01/x/y/z",
        "VN/GOV/G01\n",
        "VN/GOV/G01\r\nX-Injected: yes",
        "VN/GOV/G01\t/x/y/z",
        " VN/GOV/G01/x/y",
        "VN/GOV/G01/x/y ",
        "VN/GOV/G 01/x/y",
        "VN/GOV/G01/x/y/",
        "/VN/GOV/G01/x/y",
        "VN/GOV//G01/x",
        "VN/G\u041EV/G01/x/y",       // Cyrillic capital O
        "VN/GOV/G0\uFF11/x/y",       // fullwidth digit one
        "VN\u2215GOV\u2215G01",      // division slash
        "VN\uFF0FGOV\uFF0FG01",      // fullwidth solidus
        "VN/GOV/G01\u200B/x/y",      // zero-width space
        "VN/GOV/G01\u202E/x/y",      // right-to-left override
        "\uFEFFVN/GOV/G01/x/y",      // byte order mark
        "VN/GOV/\uD800/x/y",         // lone surrogate
        "VN/GOV/\uD83D\uDE00/x/y",   // emoji
        "VN/GOV/G\u00A001/x/y",      // no-break space
        "VN\\GOV\\G01",
        "VN/GOV/G01%2Fx/y/z",
        "VN/GOV/G01;DROP/x/y",
        "VN/GOV/\"G01\"/x/y",
        "VN/GOV/<script>/x/y",
    ];

    private static IEnumerable<TestCaseData> Cases() =>
        from parser in IdentifierParser.All
        from text in Hostile
        select new TestCaseData(parser, text).SetArgDisplayNames(parser.Name, Display(text));

    [TestCaseSource(nameof(Cases))]
    public void Parse_HostileInput_ThrowsOnlyIdentifierFormatExceptionWithSafeMessage(IdentifierParser parser, string text)
    {
        var exception = Assert.Throws<IdentifierFormatException>(() => parser.Parse(text))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception.Message, Has.Length.LessThanOrEqualTo(MaxMessageLength));
            Assert.That(exception.Message.All(c => c is >= ' ' and <= '~'), Is.True, exception.Message);
            Assert.That(exception.Code, Does.StartWith("Identifier."));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void TryParse_HostileInput_ReturnsFalseWithError(IdentifierParser parser, string text)
    {
        var (ok, result, error) = parser.TryParse(text);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok, Is.False);
            Assert.That(result, Is.Null);
            Assert.That(error, Is.Not.Null);
        }
    }

    [Test]
    public void Parse_10000CharacterInput_ReportsTooLongNotSomethingLater()
    {
        var exception = Assert.Throws<IdentifierFormatException>(() => ServiceId.Parse(new string('/', 10_000)))!;

        Assert.That(exception.Code, Is.EqualTo(IdentifierErrorCodes.TooLong));
    }

    [Test]
    public void Parse_OnlySlashesWithRightCount_ReportsFirstEmptyPart()
    {
        var exception = Assert.Throws<IdentifierFormatException>(() => MemberId.Parse("//"))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception.Code, Is.EqualTo(IdentifierErrorCodes.EmptyPart));
            Assert.That(exception.Part, Is.EqualTo("instance"));
        }
    }

    [Test]
    public void Parse_LongIllegalPart_QuotesAtMost64CharactersOfIt()
    {
        var code = new string('x', 200) + "\u0001";

        var exception = Assert.Throws<IdentifierFormatException>(() => MemberId.Parse($"VN/GOV/{code}"))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception.Error.CharIndex, Is.EqualTo(200));
            Assert.That(exception.Message, Does.Contain(new string('x', 64) + "... (201 characters)"));
            Assert.That(exception.Message, Does.Not.Contain(new string('x', 65)));
        }
    }

    [Test]
    public void Parse_NewlineInjection_DoesNotPutLineBreakInMessage()
    {
        var exception = Assert.Throws<IdentifierFormatException>(() => MemberId.Parse("VN/GOV/G01\r\nX-Injected: yes"))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception.Message, Does.Not.Contain("\n"));
            Assert.That(exception.Message, Does.Contain(@"G01\u000d\u000aX-Injected:\u0020yes"));
        }
    }

    private static string Display(string text) =>
        text.Length > 24
            ? $"{Escape(text[..24])}...({text.Length})"
            : Escape(text);

    private static string Escape(string text) =>
        string.Concat(text.Select(c => c is > ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}"));
}
