// SPDX-License-Identifier: Apache-2.0
using System.Collections.Concurrent;
using Grpc.Health.V1;

namespace ExchangeBus.Grpc.Health;

/// <summary>
/// The standard <c>grpc.health.v1.Health</c> service. The empty service name is the server as a
/// whole; components set their own names' status as they start, drain or fail.
/// </summary>
public sealed class HealthService
{
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> CheckMethod =
        ProtoMethods.Create<HealthCheckRequest, HealthCheckResponse>(HealthReflection.Descriptor.Services[0], "Check");

    public static readonly Method<HealthCheckRequest, HealthCheckResponse> WatchMethod =
        ProtoMethods.Create<HealthCheckRequest, HealthCheckResponse>(HealthReflection.Descriptor.Services[0], "Watch");

    private readonly ConcurrentDictionary<string, HealthCheckResponse.Types.ServingStatus> _statuses = new(StringComparer.Ordinal);
    private event Action<string>? Changed;

    public HealthService()
    {
        _statuses[string.Empty] = HealthCheckResponse.Types.ServingStatus.Serving;
        Definition = GrpcServiceDefinition.CreateBuilder()
            .AddMethod(CheckMethod, CheckAsync)
            .AddMethod(WatchMethod, WatchAsync)
            .Build();
    }

    internal GrpcServiceDefinition Definition { get; }

    public void SetStatus(string service, HealthCheckResponse.Types.ServingStatus status)
    {
        ArgumentNullException.ThrowIfNull(service);
        _statuses[service] = status;
        Changed?.Invoke(service);
    }

    private Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, ServerCallContext context)
    {
        if (!_statuses.TryGetValue(request.Service, out var status))
        {
            throw new RpcException(StatusCode.NotFound, "Unknown service.");
        }

        return Task.FromResult(new HealthCheckResponse { Status = status });
    }

    private async Task WatchAsync(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> stream, ServerCallContext context)
    {
        // Each change wakes the watcher, which sends the status only when it differs from the last sent.
        var signal = new SemaphoreSlim(0);
        void OnChanged(string service)
        {
            if (string.Equals(service, request.Service, StringComparison.Ordinal))
            {
                signal.Release();
            }
        }

        Changed += OnChanged;
        try
        {
            HealthCheckResponse.Types.ServingStatus? last = null;
            while (true)
            {
                var current = _statuses.TryGetValue(request.Service, out var s)
                    ? s
                    : HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
                if (current != last)
                {
                    await stream.WriteAsync(new HealthCheckResponse { Status = current }, context.CancellationToken).ConfigureAwait(false);
                    last = current;
                }

                await signal.WaitAsync(context.CancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Changed -= OnChanged;
            signal.Dispose();
        }
    }
}
