// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.Identifiers;

public sealed class IdentifierErrorTests
{
    [TestCase(null)]
    [TestCase("")]
    public void Parse_NullOrEmpty_ThrowsEmpty(string? text)
    {
        var error = ParseError(() => MemberId.Parse(text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.Empty));
            Assert.That(error.Part, Is.Null);
            Assert.That(error.PartIndex, Is.Null);
        }
    }

    [Test]
    public void Parse_1025Characters_ThrowsTooLongWithoutEchoingInput()
    {
        var text = $"{new string('a', 255)}/{new string('b', 255)}/{new string('c', 255)}/{new string('d', 255)}/s";
        Assume.That(text, Has.Length.EqualTo(IdentifierLimits.MaxLength + 1));

        var error = ParseError(() => ServiceId.Parse(text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.TooLong));
            Assert.That(error.Message, Does.Contain("1025"));
            Assert.That(error.Message, Does.Not.Contain("aaaa"));
        }
    }

    [TestCase("VN/GOV")]
    [TestCase("VN/GOV/G01/dossier")]
    [TestCase("VN")]
    public void MemberIdParse_WrongNumberOfParts_ThrowsWrongPartCount(string text)
    {
        var error = ParseError(() => MemberId.Parse(text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.WrongPartCount));
            Assert.That(error.Message, Does.Contain("INSTANCE/CLASS/MEMBER"));
            Assert.That(error.PartIndex, Is.Null);
        }
    }

    [TestCase("VN/GOV/H01/registry")]
    [TestCase("VN/GOV/H01/registry/getCitizen/v1/extra")]
    public void ServiceIdParse_WrongNumberOfParts_ThrowsWrongPartCount(string text)
    {
        Assert.That(ParseError(() => ServiceId.Parse(text)).Code, Is.EqualTo(IdentifierErrorCodes.WrongPartCount));
    }

    [TestCase("VN/GOV/G01/dossier/x")]
    [TestCase("VN/GOV")]
    public void ClientIdParse_WrongNumberOfParts_ThrowsWrongPartCount(string text)
    {
        Assert.That(ParseError(() => ClientId.Parse(text)).Code, Is.EqualTo(IdentifierErrorCodes.WrongPartCount));
    }

    [TestCase("/GOV/G01", 0, "instance")]
    [TestCase("VN//G01", 1, "member class")]
    [TestCase("VN/GOV/", 2, "member code")]
    public void MemberIdParse_EmptyPart_ThrowsEmptyPartNamingIt(string text, int index, string part)
    {
        var error = ParseError(() => MemberId.Parse(text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.EmptyPart));
            Assert.That(error.Part, Is.EqualTo(part));
            Assert.That(error.PartIndex, Is.EqualTo(index));
            Assert.That(error.Message, Does.Contain(part));
        }
    }

    [Test]
    public void ServiceIdParse_TrailingSlashAfterService_ThrowsEmptyVersion()
    {
        var error = ParseError(() => ServiceId.Parse("VN/GOV/H01/registry/getCitizen/"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.EmptyPart));
            Assert.That(error.Part, Is.EqualTo("version"));
            Assert.That(error.PartIndex, Is.EqualTo(5));
        }
    }

    [Test]
    public void ClientIdParse_TrailingSlash_ThrowsEmptySubsystemCode()
    {
        var error = ParseError(() => ClientId.Parse("VN/GOV/G01/"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.EmptyPart));
            Assert.That(error.Part, Is.EqualTo("subsystem code"));
        }
    }

    [Test]
    public void Parse_PartOf256Characters_ThrowsPartTooLong()
    {
        var error = ParseError(() => SubsystemId.Parse($"VN/GOV/G01/{new string('s', 256)}"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.PartTooLong));
            Assert.That(error.Part, Is.EqualTo("subsystem code"));
            Assert.That(error.PartIndex, Is.EqualTo(3));
            Assert.That(error.Message, Does.Contain("256"));
        }
    }

    [Test]
    public void Parse_ControlCharacter_ThrowsIllegalCharacterWithEscapedExcerpt()
    {
        var error = ParseError(() => MemberId.Parse("VN/GOV/AB\u0007C"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.IllegalCharacter));
            Assert.That(error.Part, Is.EqualTo("member code"));
            Assert.That(error.PartIndex, Is.EqualTo(2));
            Assert.That(error.CharIndex, Is.EqualTo(2));
            Assert.That(error.Message, Does.Contain("U+0007"));
            Assert.That(error.Message, Does.Contain(@"AB\u0007C"));
            Assert.That(error.Message, Does.Not.Contain("\u0007"));
        }
    }

    [TestCase("VN/GOV/H01/registry/get Citizen", "service code", 4, 3)]
    [TestCase("VN/GOV/H01/registry/getCitizen/v1*", "version", 5, 2)]
    [TestCase("VN/GOV/H01/regi:stry/getCitizen", "subsystem code", 3, 4)]
    [TestCase("VN/GOV/H\u0130/registry/getCitizen", "member code", 2, 1)]
    [TestCase("VN/G_V/H01/registry/getCitizen", "member class", 1, 1)]
    [TestCase("V\\N/GOV/H01/registry/getCitizen", "instance", 0, 1)]
    public void ServiceIdParse_IllegalCharacter_NamesPartAndPosition(string text, string part, int partIndex, int charIndex)
    {
        var error = ParseError(() => ServiceId.Parse(text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.IllegalCharacter));
            Assert.That(error.Part, Is.EqualTo(part));
            Assert.That(error.PartIndex, Is.EqualTo(partIndex));
            Assert.That(error.CharIndex, Is.EqualTo(charIndex));
        }
    }

    [Test]
    public void NodeIdParse_BadNodeCode_NamesNodeCode()
    {
        Assert.That(ParseError(() => NodeId.Parse("VN/GOV/G01/no de")).Part, Is.EqualTo("node code"));
    }

    [Test]
    public void GlobalGroupIdParse_BadGroupCode_NamesGroupCode()
    {
        var error = ParseError(() => GlobalGroupId.Parse("VN/min#stries"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.IllegalCharacter));
            Assert.That(error.Part, Is.EqualTo("group code"));
            Assert.That(error.Message, Does.Contain("'#'"));
        }
    }

    [Test]
    public void TryParse_InvalidText_ReturnsFalseWithSameErrorAsParse()
    {
        const string text = "VN/GOV/G01/dos sier";

        var ok = SubsystemId.TryParse(text, out var result, out var error);
        var thrown = ParseError(() => SubsystemId.Parse(text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok, Is.False);
            Assert.That(result, Is.Null);
            Assert.That(error, Is.EqualTo(thrown));
        }
    }

    [Test]
    public void TryParse_ValidText_ReturnsTrueWithNoError()
    {
        var ok = NodeId.TryParse("VN/GOV/G01/node1", out var result, out var error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ok, Is.True);
            Assert.That(result?.NodeCode, Is.EqualTo("node1"));
            Assert.That(error, Is.Null);
        }
    }

    [Test]
    public void Exception_IsFormatExceptionCarryingCodeAndPart()
    {
        var exception = Assert.Throws<IdentifierFormatException>(() => MemberId.Parse("VN//G01"))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception, Is.InstanceOf<FormatException>());
            Assert.That(exception.Code, Is.EqualTo(IdentifierErrorCodes.EmptyPart));
            Assert.That(exception.Part, Is.EqualTo("member class"));
            Assert.That(exception.PartIndex, Is.EqualTo(1));
            Assert.That(exception.Message, Is.EqualTo(exception.Error.Message));
        }
    }

    [Test]
    public void Create_IllegalPart_ThrowsIdentifierFormatExceptionNamingPart()
    {
        var error = ParseError(() => MemberId.Create("VN", "GOV", "G 01"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.IllegalCharacter));
            Assert.That(error.Part, Is.EqualTo("member code"));
            Assert.That(error.CharIndex, Is.EqualTo(1));
        }
    }

    [Test]
    public void Create_PartWithSlash_ThrowsIllegalCharacter()
    {
        var member = MemberId.Parse("VN/GOV/G01");

        Assert.That(ParseError(() => SubsystemId.Create(member, "a/b")).Code, Is.EqualTo(IdentifierErrorCodes.IllegalCharacter));
    }

    [Test]
    public void Create_EmptyVersion_ThrowsEmptyPartNamingVersion()
    {
        var subsystem = SubsystemId.Parse("VN/GOV/H01/registry");

        var error = ParseError(() => ServiceId.Create(subsystem, "getCitizen", ""));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error.Code, Is.EqualTo(IdentifierErrorCodes.EmptyPart));
            Assert.That(error.Part, Is.EqualTo("version"));
        }
    }

    [Test]
    public void Create_NullPart_ThrowsArgumentNullExceptionNamingParameter()
    {
        var exception = Assert.Throws<ArgumentNullException>(() => GlobalGroupId.Create("VN", null!))!;

        Assert.That(exception.ParamName, Is.EqualTo("groupCode"));
    }

    // Assert.Throws returns null only when it has already failed the test.
    private static IdentifierError ParseError(Action parse) =>
        Assert.Throws<IdentifierFormatException>(parse)!.Error;
}
