// SPDX-License-Identifier: Apache-2.0
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests.Infrastructure;

/// <summary>
/// The life of a browser-test fixture: the real xbus processes it tests started once, then
/// Chromium launched once; a fresh person (a browser context with no cookies) opening
/// <see cref="ConsoleAddress"/> for every test, closed after it; Chromium and the processes
/// disposed at the end, also after a set-up that failed half-way. Derive from
/// <see cref="ConsoleBusFixture"/> or <see cref="ConsoleRegistryFixture"/>.
/// </summary>
/// <remarks>
/// The members are <c>private protected</c> because the processes' types are internal to this
/// assembly while NUnit wants the fixtures public.
/// </remarks>
public abstract class ConsoleFixture
{
    private IPlaywright? _playwright;
    private IBrowser? _chromium;
    private IBrowserContext? _person;

    private protected ConsoleFixture()
    {
    }

    /// <summary>Chromium, for a person of a test's own: another console, or client certificates.</summary>
    private protected IBrowser Chromium => _chromium ?? throw new InvalidOperationException("Chromium is launched by the fixture's one-time set-up.");

    /// <summary>This test's person, at <see cref="ConsoleAddress"/>.</summary>
    private protected IBrowserContext Person => _person ?? throw new InvalidOperationException("A person is made for each test by its set-up.");

    /// <summary>The console each test's <see cref="Person"/> opens.</summary>
    private protected abstract string ConsoleAddress { get; }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        await StartProcessesAsync();
        await PrepareAsync();
        (_playwright, _chromium) = await Browser.LaunchAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }

        _playwright?.Dispose();
        await StopProcessesAsync();
    }

    [SetUp]
    public async Task NewPersonAsync() => _person = await PersonAsync(ConsoleAddress);

    [TearDown]
    public async Task ClosePersonAsync()
    {
        if (_person is not null)
        {
            await _person.DisposeAsync();
            _person = null;
        }
    }

    /// <summary>Starts the xbus processes the fixture's tests use.</summary>
    private protected abstract Task StartProcessesAsync();

    /// <summary>Stops whatever <see cref="StartProcessesAsync"/> started, also when it failed half-way.</summary>
    private protected abstract ValueTask StopProcessesAsync();

    /// <summary>What the fixture sets up once its processes run (CLI commands, calls), before Chromium is launched.</summary>
    private protected virtual Task PrepareAsync() => Task.CompletedTask;

    /// <summary>Another fresh person, at <paramref name="consoleAddress"/>; the test disposes it.</summary>
    private protected Task<IBrowserContext> PersonAsync(string consoleAddress) => Browser.PersonAsync(Chromium, consoleAddress);

    /// <summary>A new page of this test's <see cref="Person"/>, signed in as account <paramref name="name"/>.</summary>
    private protected async Task<IPage> SignedInAsync(string name)
    {
        var page = await Person.NewPageAsync();
        await Browser.SignInAsync(page, name, ConsoleRegistry.Password);
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync(name);
        return page;
    }
}
