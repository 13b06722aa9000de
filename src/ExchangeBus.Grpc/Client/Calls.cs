// SPDX-License-Identifier: Apache-2.0
using System.Runtime.CompilerServices;
using ExchangeBus.Grpc.Internal;

namespace ExchangeBus.Grpc;

public sealed class AsyncUnaryCall<TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncUnaryCall(Task<TResponse> responseAsync, IClientCallState state)
    {
        ResponseAsync = responseAsync;
        _state = state;
    }

    public Task<TResponse> ResponseAsync { get; }

    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    public Status GetStatus() => _state.GetStatus();

    public Metadata GetTrailers() => _state.GetTrailers();

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    public void Dispose() => _state.Dispose();
}

public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responseStream)
    {
        ResponseStream = responseStream;
        _state = (IClientCallState)responseStream;
    }

    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    public Status GetStatus() => _state.GetStatus();

    public Metadata GetTrailers() => _state.GetTrailers();

    public void Dispose() => _state.Dispose();
}

public sealed class AsyncClientStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncClientStreamingCall(IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync)
    {
        RequestStream = requestStream;
        ResponseAsync = responseAsync;
        _state = (IClientCallState)requestStream;
    }

    public IClientStreamWriter<TRequest> RequestStream { get; }

    public Task<TResponse> ResponseAsync { get; }

    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    public Status GetStatus() => _state.GetStatus();

    public Metadata GetTrailers() => _state.GetTrailers();

    public void Dispose() => _state.Dispose();
}

public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    internal AsyncDuplexStreamingCall(ClientCall<TRequest, TResponse> call)
    {
        RequestStream = call;
        ResponseStream = call;
        _state = call;
    }

    public IClientStreamWriter<TRequest> RequestStream { get; }

    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    public Status GetStatus() => _state.GetStatus();

    public Metadata GetTrailers() => _state.GetTrailers();

    public void Dispose() => _state.Dispose();
}
