// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.Core.Storage;

/// <summary>
/// A database the bus will not use as it is, with a code from <see cref="StorageErrors"/>. An
/// <see cref="InvalidOperationException"/>, as the stores threw before the code existed.
/// </summary>
public sealed class StorageException(string code, string message) : InvalidOperationException(message)
{
    public string Code { get; } = code;
}
