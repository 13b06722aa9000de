// SPDX-License-Identifier: Apache-2.0
using Grpc.Core;

namespace ExchangeBus.Core.Errors;

/// <summary>An expected refusal: carries its stable code and the gRPC status it maps to.</summary>
public sealed class RegistryException(StatusCode statusCode, string code, string message) : Exception(message)
{
    public StatusCode StatusCode { get; } = statusCode;

    public string Code { get; } = code;

    public static RegistryException Invalid(string code, string message) => new(StatusCode.InvalidArgument, code, message);

    public static RegistryException NotFound(string code, string message) => new(StatusCode.NotFound, code, message);

    public static RegistryException Exists(string code, string message) => new(StatusCode.AlreadyExists, code, message);

    public static RegistryException Precondition(string code, string message) => new(StatusCode.FailedPrecondition, code, message);
}
