// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Core.Identifiers;

namespace ExchangeBus.Core.Tests.Identifiers;

/// <summary>
/// Property checks with a fixed seed, so a failure reproduces exactly: every well-formed
/// identifier survives Parse(ToString()), and every text a parser accepts is already canonical.
/// </summary>
public sealed class IdentifierRoundTripPropertyTests
{
    private const int Seed = 20_240_601;
    private const int Iterations = 2_000;

    [Test]
    public void ParseToString_RandomWellFormedIdentifiers_RoundTrip()
    {
        var random = new Random(Seed);

        for (var i = 0; i < Iterations; i++)
        {
            var member = MemberId.Create(RandomPart(random), RandomPart(random), RandomPart(random));
            var subsystem = SubsystemId.Create(member, RandomPart(random));
            var service = ServiceId.Create(subsystem, RandomPart(random), random.Next(2) == 0 ? null : RandomPart(random));
            var node = NodeId.Create(member, RandomPart(random));
            var group = GlobalGroupId.Create(RandomPart(random), RandomPart(random));
            ClientId client = random.Next(2) == 0 ? member : subsystem;

            using (Assert.EnterMultipleScope())
            {
                Assert.That(MemberId.Parse(member.ToString()), Is.EqualTo(member));
                Assert.That(SubsystemId.Parse(subsystem.ToString()), Is.EqualTo(subsystem));
                Assert.That(ServiceId.Parse(service.ToString()), Is.EqualTo(service));
                Assert.That(NodeId.Parse(node.ToString()), Is.EqualTo(node));
                Assert.That(GlobalGroupId.Parse(group.ToString()), Is.EqualTo(group));
                Assert.That(ClientId.Parse(client.ToString()), Is.EqualTo(client));
                Assert.That(ServiceId.Parse(service.ToString()).ToString(), Is.EqualTo(service.ToString()));
            }
        }
    }

    [Test]
    public void Parse_RandomNearlyValidText_EitherThrowsFormatErrorOrIsCanonical()
    {
        // Mostly allowed characters and slashes, with a sprinkling of the characters that
        // matter: whitespace, controls, look-alikes, a lone surrogate.
        const string noise = " \t\n\r\0\u007f\u00a0\u0130\u041e\uff0f\u2215\u200b\ud800\\:;%*_";
        var alphabet = IdentifierLimits.AllowedCharacters + "////////";
        var random = new Random(Seed);
        var accepted = 0;

        for (var i = 0; i < Iterations * 5; i++)
        {
            var length = random.Next(0, 40);
            var chars = new char[length];
            for (var j = 0; j < length; j++)
            {
                chars[j] = random.Next(50) == 0 ? noise[random.Next(noise.Length)] : alphabet[random.Next(alphabet.Length)];
            }

            var text = new string(chars);
            foreach (var parser in IdentifierParser.All)
            {
                object? parsed = null;
                try
                {
                    parsed = parser.Parse(text);
                }
                catch (IdentifierFormatException)
                {
                    // The one exception Parse may throw; anything else fails the test.
                }

                var (ok, _, error) = parser.TryParse(text);
                Assert.That(ok, Is.EqualTo(parsed is not null), $"{parser.Name} TryParse agrees with Parse on \"{text}\"");
                if (parsed is not null)
                {
                    accepted++;
                    Assert.That(parsed.ToString(), Is.EqualTo(text));
                    Assert.That(error, Is.Null);
                }
            }
        }

        // Guards the generator: a run that never produced a valid identifier proves nothing.
        Assert.That(accepted, Is.GreaterThan(100));
    }

    private static string RandomPart(Random random)
    {
        // Mostly short parts, sometimes longer ones, so the separators move around.
        var length = random.Next(10) == 0 ? random.Next(1, 64) : random.Next(1, 12);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = IdentifierLimits.AllowedCharacters[random.Next(IdentifierLimits.AllowedCharacters.Length)];
        }

        return new string(chars);
    }
}
