// SPDX-License-Identifier: Apache-2.0
using ExchangeBus.Registry.Tests.Infrastructure;
using ExchangeBus.WebConsole.Accounts;
using ExchangeBus.WebConsole.Hosting;
using Microsoft.Extensions.Time.Testing;
using ExchangeBus.Core.Storage;

namespace ExchangeBus.Registry.Tests;

/// <summary>The console's accounts in the registry's database: sign-in, lockout on a fake clock, and the admin audit log's entries.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class ConsoleAccountTests(StorageEngine engine) : OnEachEngine(engine)
{
    private const string Password = "correct horse battery staple";

    [Test]
    public async Task SignIn_LockoutEndsAfterItsDuration_AndEveryAttemptIsAudited()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var registry = await StartRegistryAsync(timeProvider: clock);
        registry.Store.Add("cli:test", new ConsoleAccount("lan", new HashSet<ConsoleRole> { ConsoleRole.RegistrationOfficer }, ConsolePasswords.Hash(Password), 0, null));
        var signIn = new ConsoleSignIn(registry.Store, new ConsoleOptions { MaxFailedLogins = 3, LockoutDuration = TimeSpan.FromMinutes(15) }, clock);

        Assert.That(signIn.SignIn("lan", "wrong").ErrorCode, Is.EqualTo(ConsoleErrors.LoginFailed));
        Assert.That(signIn.SignIn("lan", "wrong").ErrorCode, Is.EqualTo(ConsoleErrors.LoginFailed));
        Assert.That(signIn.SignIn("lan", "wrong").ErrorCode, Is.EqualTo(ConsoleErrors.LockedOut), "the third failure locks");
        Assert.That(signIn.SignIn("lan", Password).ErrorCode, Is.EqualTo(ConsoleErrors.LockedOut), "locked whatever the password");

        clock.Advance(TimeSpan.FromMinutes(14));
        Assert.That(signIn.SignIn("lan", Password).Succeeded, Is.False, "trying while locked does not shorten the lock");
        clock.Advance(TimeSpan.FromMinutes(1));
        var result = signIn.SignIn("lan", Password);
        Assert.That(result.Succeeded, Is.True);
        Assert.That(result.Account!.Roles, Is.EquivalentTo(new[] { ConsoleRole.RegistrationOfficer }));
        Assert.That(registry.Store.FindAccount("lan")!.FailedLogins, Is.Zero, "a login starts the count again");

        var entries = registry.Store.QueryAuditLog(0, 100, "console:lan", "console.login");
        Assert.That(entries.Select(e => (e.Accepted, e.ErrorCode)), Is.EqualTo(new[]
        {
            (false, ConsoleErrors.LoginFailed), (false, ConsoleErrors.LoginFailed), (false, ConsoleErrors.LoginFailed),
            (false, ConsoleErrors.LockedOut), (false, ConsoleErrors.LockedOut), (true, string.Empty),
        }));
        Assert.That(registry.Store.QueryAuditLog(0, 100, null, null).Any(e => e.After.Contains("AQAAAA", StringComparison.Ordinal)), Is.False, "no password hash in the log");
        Assert.That(registry.Store.VerifyAuditLog().Valid, Is.True);
    }

    [Test]
    public async Task Add_TakenNameOrNoRole_IsRefusedWithItsCode_AndAudited()
    {
        await using var registry = await StartRegistryAsync();
        var account = new ConsoleAccount("mai", new HashSet<ConsoleRole> { ConsoleRole.Auditor }, ConsolePasswords.Hash(Password), 0, null);
        registry.Store.Add("cli:test", account);

        var taken = Assert.Throws<ConsoleAccountException>(() => registry.Store.Add("cli:test", account));
        var roleless = Assert.Throws<ConsoleAccountException>(() => registry.Store.Add("cli:test", account with { Name = "hoa", Roles = new HashSet<ConsoleRole>() }));

        Assert.That((taken!.Code, roleless!.Code), Is.EqualTo((ConsoleErrors.DuplicateAccount, ConsoleErrors.InvalidAccount)));
        var entries = registry.Store.QueryAuditLog(0, 100, "cli:test", "console.user.add");
        Assert.That(entries.Select(e => e.ErrorCode), Is.EqualTo(new[] { string.Empty, ConsoleErrors.DuplicateAccount, ConsoleErrors.InvalidAccount }));
    }

    [Test]
    public async Task SignIn_UnknownName_FailsLikeAWrongPassword()
    {
        await using var registry = await StartRegistryAsync();
        var signIn = new ConsoleSignIn(registry.Store, new ConsoleOptions(), TimeProvider.System);

        Assert.That(signIn.SignIn("nobody", Password).ErrorCode, Is.EqualTo(ConsoleErrors.LoginFailed));
        Assert.That(signIn.SignIn("<script>", Password).ErrorCode, Is.EqualTo(ConsoleErrors.LoginFailed));
        Assert.That(registry.Store.QueryAuditLog(0, 100, "console:script", "console.login"), Has.Count.EqualTo(1), "what a stranger typed is kept only as a bounded, cleaned name");
    }
}
