// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// A browser-test fixture on a <see cref="ConsoleRegistry"/> of its own, started by
/// <see cref="StartRegistryAsync"/> with the fixture's accounts and settings; each test's person
/// opens the registry's console.
/// </summary>
public abstract class ConsoleRegistryFixture : ConsoleFixture
{
    private ConsoleRegistry? _registry;

    private protected ConsoleRegistry Registry => _registry ?? throw new InvalidOperationException("The registry is started by the fixture's one-time set-up.");

    private protected override string ConsoleAddress => Registry.ConsoleAddress;

    /// <summary>Starts the fixture's registry (with one of <c>ConsoleRegistry.StartAsync</c>).</summary>
    private protected abstract Task<ConsoleRegistry> StartRegistryAsync();

    private protected sealed override async Task StartProcessesAsync() => _registry = await StartRegistryAsync();

    private protected sealed override async ValueTask StopProcessesAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
}
