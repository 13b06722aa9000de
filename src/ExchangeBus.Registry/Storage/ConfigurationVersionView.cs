// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Registry.Storage;

/// <summary>A published configuration version as kept (the newest 100): when made, until when valid, how large signed.</summary>
public sealed record ConfigurationVersionView(ulong Version, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, long Bytes);
