// SPDX-License-Identifier: Apache-2.0
using Microsoft.Extensions.Options;

namespace ExchangeBus.Grpc;

/// <summary>What every server call shares: options, clock, logger.</summary>
internal sealed class GrpcServerRuntime(IOptions<GrpcServerOptions> options, TimeProvider timeProvider, ILogger<GrpcServerRuntime> logger)
{
    public GrpcServerOptions Options { get; } = options.Value;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public ILogger Logger { get; } = logger;
}
