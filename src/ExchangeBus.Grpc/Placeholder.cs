namespace ExchangeBus.Grpc; internal static class Placeholder { }
