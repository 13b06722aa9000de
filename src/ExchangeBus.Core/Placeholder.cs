namespace ExchangeBus.Core; internal static class Placeholder { }
