// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;
using FsCheck;
using FsCheck.Fluent;

namespace ExchangeBus.Core.Tests.Identifiers;

/// <summary>
/// FsCheck properties over the six identifier parsers (docs/reliability.md, "Random input"):
/// whatever text arrives, a parser either accepts it as a value whose string form parses back
/// to the same value, or refuses it with <see cref="IdentifierFormatException"/> and one of the
/// published codes. FsCheck prints the seed of a failing run and shrinks the input.
/// </summary>
public sealed class IdentifierFsCheckProperties
{
    private const int Cases = 2_000;

    private static readonly string[] PublishedCodes =
    [
        IdentifierErrorCodes.Empty, IdentifierErrorCodes.TooLong, IdentifierErrorCodes.WrongPartCount,
        IdentifierErrorCodes.EmptyPart, IdentifierErrorCodes.PartTooLong, IdentifierErrorCodes.IllegalCharacter,
    ];

    private static readonly Config Run = Config.QuickThrowOnFailure.WithMaxTest(Cases);

    /// <summary>One allowed character.</summary>
    private static readonly Gen<char> AllowedChar = Gen.Elements(IdentifierLimits.AllowedCharacters.ToCharArray());

    /// <summary>A valid part: mostly short, sometimes up to the 255-character limit.</summary>
    private static readonly Gen<string> Part =
        Gen.Frequency(
            (9, Gen.Choose(1, 12)),
            (1, Gen.Choose(13, IdentifierLimits.MaxPartLength)))
        .SelectMany(length => AllowedChar.ArrayOf(length))
        .Select(chars => new string(chars));

    private static readonly Gen<MemberId> Member =
        from instance in Part
        from memberClass in Part
        from code in Part
        select MemberId.Create(instance, memberClass, code);

    /// <summary>Any text: FsCheck's strings (all of UTF-16), near-identifiers, and slash-heavy noise.</summary>
    private static readonly Gen<string> AnyText = Gen.OneOf(
        ArbMap.Default.GeneratorFor<string>().Select(s => s ?? string.Empty),
        NearlyValidText(),
        Gen.Elements('/', 'A', '\0', '\n', ' ', '\u00a0', '\ud800', '\uff0f').ArrayOf().Select(c => new string(c)));

    [Test]
    public void AnyText_EveryParser_AcceptsCanonicallyOrRefusesWithAPublishedCode()
    {
        Prop.ForAll(AnyText.ToArbitrary(), text =>
        {
            foreach (var parser in IdentifierParser.All)
            {
                ParsesBackOrRefuses(parser, text);
            }
        }).Check(Run);
    }

    [Test]
    public void GeneratedValidIdentifiers_RoundTripThroughTheirStringForm()
    {
        var identifiers =
            from member in Member
            from subsystemCode in Part
            from serviceCode in Part
            from version in Gen.OneOf(Gen.Constant<string?>(null), Part.Select(p => (string?)p))
            from serverCode in Part
            from asClient in ArbMap.Default.GeneratorFor<bool>()
            select (member, subsystemCode, serviceCode, version, serverCode, asClient);

        Prop.ForAll(identifiers.ToArbitrary(), t =>
        {
            var subsystem = SubsystemId.Create(t.member, t.subsystemCode);
            var service = ServiceId.Create(subsystem, t.serviceCode, t.version);
            var node = NodeId.Create(t.member, t.serverCode);
            ClientId client = t.asClient ? t.member : subsystem;

            using (Assert.EnterMultipleScope())
            {
                Assert.That(MemberId.Parse(t.member.ToString()), Is.EqualTo(t.member));
                Assert.That(SubsystemId.Parse(subsystem.ToString()), Is.EqualTo(subsystem));
                Assert.That(ClientId.Parse(client.ToString()), Is.EqualTo(client));
                Assert.That(ServiceId.Parse(service.ToString()), Is.EqualTo(service));
                Assert.That(NodeId.Parse(node.ToString()), Is.EqualTo(node));
            }
        }).Check(Run);
    }

    [Test]
    public void ValidIdentifier_WithAControlCharacterInserted_IsRefusedAsIllegalCharacter()
    {
        // C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
        var control = Gen.OneOf(Gen.Choose(0, 0x1F), Gen.Choose(0x7F, 0x9F), Gen.Elements(0x2028, 0x2029)).Select(c => (char)c);
        Prop.ForAll(Inserted(control).ToArbitrary(), t =>
        {
            var exception = Assert.Throws<IdentifierFormatException>(() => t.Parser.Parse(t.Text), t.Text)!;
            Assert.That(exception.Code, Is.EqualTo(IdentifierErrorCodes.IllegalCharacter));
        }).Check(Run);
    }

    [Test]
    public void ValidIdentifier_WithASlashInserted_IsRefusedAsAPartCountOrEmptyPart()
    {
        // One slash more splits a part in two (or makes an empty one): the count is then wrong,
        // or, for the kinds with an optional last part, a part is empty. Never accepted as
        // another identifier unless it is a well-formed one of the longer shape.
        Prop.ForAll(Inserted(Gen.Constant('/')).ToArbitrary(), t =>
        {
            var (ok, value, error) = t.Parser.TryParse(t.Text);
            if (ok)
            {
                // ClientId and ServiceId take an optional part: a member split into a subsystem
                // is a different, valid identifier, and it must then be canonical.
                Assert.That(t.Parser.MaxParts, Is.GreaterThan(t.Parser.MinParts), t.Text);
                Assert.That(value!.ToString(), Is.EqualTo(t.Text));
            }
            else
            {
                Assert.That(error!.Code, Is.AnyOf(IdentifierErrorCodes.WrongPartCount, IdentifierErrorCodes.EmptyPart), t.Text);
            }
        }).Check(Run);
    }

    private static void ParsesBackOrRefuses(IdentifierParser parser, string text)
    {
        object? parsed = null;
        try
        {
            parsed = parser.Parse(text);
        }
        catch (IdentifierFormatException ex)
        {
            Assert.That(ex.Code, Is.AnyOf(PublishedCodes), $"{parser.Name}: {ex.Message}");
        }

        var (ok, tried, error) = parser.TryParse(text);
        Assert.That(ok, Is.EqualTo(parsed is not null), $"{parser.Name}: TryParse agrees with Parse");
        if (parsed is null)
        {
            Assert.That(error, Is.Not.Null);
            Assert.That(error!.Code, Is.AnyOf(PublishedCodes));
            return;
        }

        var again = parser.Parse(parsed.ToString());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(again, Is.EqualTo(parsed), $"{parser.Name}: Parse(ToString()) gives the same value");
            Assert.That(tried, Is.EqualTo(parsed));
            Assert.That(parsed.ToString(), Is.EqualTo(text), $"{parser.Name}: only canonical text is accepted");
        }
    }

    /// <summary>A valid identifier of a random kind, with <paramref name="inserted"/> put at a random place in one of its parts.</summary>
    private static Gen<(IdentifierParser Parser, string Text)> Inserted(Gen<char> inserted) =>
        from parser in Gen.Elements(IdentifierParser.All)
        // Below the length limit, so one character more is judged by what it is, not by the length.
        from parts in Part.Where(p => p.Length < IdentifierLimits.MaxPartLength).ArrayOf(parser.MinParts)
        from index in Gen.Choose(0, parser.MinParts - 1)
        from position in Gen.Choose(0, parts[index].Length)
        from c in inserted
        select (parser, string.Join('/', parts.Select((p, i) => i == index ? p.Insert(position, c.ToString()) : p)));

    /// <summary>Slash-joined valid parts, half of them with one character of noise put somewhere.</summary>
    private static Gen<string> NearlyValidText() =>
        from parts in Part.ArrayOf().Where(p => p.Length > 0)
        from noise in Gen.Elements("/ \t\0\u0130\u041e\u200b\\%".ToCharArray())
        from position in Gen.Choose(0, 1_000)
        from noisy in ArbMap.Default.GeneratorFor<bool>()
        let text = string.Join('/', parts)
        select noisy ? text.Insert(position % (text.Length + 1), noise.ToString()) : text;
}
