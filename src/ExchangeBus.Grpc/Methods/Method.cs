// SPDX-License-Identifier: Apache-2.0
using Google.Protobuf;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace ExchangeBus.Grpc;

public enum MethodType
{
    Unary,
    ClientStreaming,
    ServerStreaming,
    DuplexStreaming,
}

/// <summary>A typed gRPC method: its kind, full name (<c>package.Service/Method</c>) and marshallers.</summary>
public sealed class Method<TRequest, TResponse>
{
    public Method(
        MethodType type,
        string serviceName,
        string name,
        Marshaller<TRequest> requestMarshaller,
        Marshaller<TResponse> responseMarshaller)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = "/" + serviceName + "/" + name;
        RequestMarshaller = requestMarshaller;
        ResponseMarshaller = responseMarshaller;
    }

    public MethodType Type { get; }

    public string ServiceName { get; }

    public string Name { get; }

    /// <summary>The HTTP/2 path, e.g. <c>/grpc.health.v1.Health/Check</c>.</summary>
    public string FullName { get; }

    public Marshaller<TRequest> RequestMarshaller { get; }

    public Marshaller<TResponse> ResponseMarshaller { get; }

    public override string ToString() => FullName;
}

/// <summary>
/// Builds typed methods from the service descriptors protoc puts in the generated code, so the
/// .proto file stays the only place a method's name, types and streaming kind are written.
/// </summary>
public static class ProtoMethods
{
    public static Method<TRequest, TResponse> Create<TRequest, TResponse>(ServiceDescriptor service, string methodName)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(service);
        var method = service.FindMethodByName(methodName)
            ?? throw new ArgumentException($"{service.FullName} has no method {methodName}.", nameof(methodName));
        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException(
                $"{service.FullName}/{methodName} is {method.InputType.FullName} -> {method.OutputType.FullName}, not {typeof(TRequest).Name} -> {typeof(TResponse).Name}.",
                nameof(methodName));
        }

        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        return new Method<TRequest, TResponse>(
            type, service.FullName, method.Name, Marshallers.ForProtobuf<TRequest>(), Marshallers.ForProtobuf<TResponse>());
    }
}
