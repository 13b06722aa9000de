// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Accounts;

/// <summary>An account change refused, with its <see cref="ConsoleErrors"/> code.</summary>
public sealed class ConsoleAccountException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
