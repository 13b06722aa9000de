// SPDX-License-Identifier: Apache-2.0
namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// A browser-test fixture on a <see cref="ConsoleBus"/> of its own; each test's person opens the
/// provider node's console unless the fixture overrides <see cref="ConsoleAddress"/>.
/// </summary>
public abstract class ConsoleBusFixture : ConsoleFixture
{
    private ConsoleBus? _bus;

    private protected ConsoleBus Bus => _bus ?? throw new InvalidOperationException("The bus is started by the fixture's one-time set-up.");

    private protected override string ConsoleAddress => Bus.Provider.ConsoleAddress;

    private protected sealed override async Task StartProcessesAsync() => _bus = await ConsoleBus.StartAsync();

    private protected sealed override async ValueTask StopProcessesAsync()
    {
        if (_bus is not null)
        {
            await _bus.DisposeAsync();
        }
    }
}
