namespace ExchangeBus.Core.Tests; public sealed class SmokeTests { [Test] public void Runs() => Assert.That(int.Parse("2", System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(2)); }
