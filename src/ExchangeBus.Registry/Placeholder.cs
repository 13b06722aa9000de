namespace ExchangeBus.Registry; internal static class Placeholder { }
