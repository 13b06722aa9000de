// SPDX-License-Identifier: Apache-2.0
using System.IO.Compression;
using ExchangeBus.Tests.Shared;
using ExchangeBus.WebConsole.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBus.WebConsole.Tests;

/// <summary>
/// Reconciling two nodes from their consoles, with no auditor key, against real <c>xbus node
/// serve</c> processes (<see cref="ConsoleBus"/>): after a few calls the provider node's auditor
/// downloads a window's evidence bundle of the exchanges with the province's node (which
/// <c>xbus audit verify-bundle</c> accepts), the province node's auditor uploads it and sees the
/// two logs agree; a bundle with one byte changed is refused with its code.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeReconcileConsoleTests : ConsoleBusFixture
{
    private protected override async Task PrepareAsync()
    {
        foreach (var subject in new[] { "079204001234", "001099000777", "079204001234" })
        {
            var call = await Bus.CallAsync(subject);
            Assert.That(call.Exit, Is.Zero, call.ToString());
        }
    }

    [Test]
    public async Task WindowBundle_FromTheProvidersConsole_ReconcilesOnTheClientsConsole()
    {
        var page = await SignedInAsync("auditor");
        await page.ClickAsync("#nav-audit-reconcile");
        await page.SelectOptionAsync("#peer", Bus.Client.Node);
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export"));
        var bundle = Path.Combine(Bus.Registry.Root, "window-" + Guid.NewGuid().ToString("N") + ".zip");
        await download.SaveAsAsync(bundle);

        var verified = await Xbus.RunAsync(Bus.Registry.Root, "audit", "verify-bundle", bundle, "--anchor", Path.Combine(Bus.Provider.Data, "anchor.json"));
        Assert.That(verified.Exit, Is.Zero, verified.ToString());

        await using var client = await PersonAsync(Bus.Client.ConsoleAddress);
        var upload = await client.NewPageAsync();
        await Browser.SignInAsync(upload, "auditor", ConsoleRegistry.Password);
        await upload.ClickAsync("#nav-audit-reconcile");
        await upload.SetInputFilesAsync("#bundle", bundle);
        await upload.ClickAsync("#upload");

        await Expect(upload.Locator("#reconcile-status")).ToHaveAttributeAsync("data-consistent", "true");
        await Expect(upload.Locator("#other-node")).ToHaveTextAsync(Bus.Provider.Node);
        await Expect(upload.Locator("#this-node")).ToHaveTextAsync(Bus.Client.Node);
        await Expect(upload.Locator("#exchanges")).ToHaveTextAsync("3");
        await Expect(upload.Locator("#matched")).ToHaveTextAsync("3");
        await Expect(upload.Locator("#bundle-records")).ToHaveTextAsync("6");
        Assert.That(await upload.ContentAsync(), Does.Not.Contain("079204001234"), "no citizen's id or body is shown");
        await Screenshots.TakeAsync(upload, "node-audit-reconcile");

        var tampered = Path.Combine(Bus.Registry.Root, "tampered-" + Guid.NewGuid().ToString("N") + ".zip");
        ChangeOneByte(bundle, tampered);
        await upload.SetInputFilesAsync("#bundle", tampered);
        await upload.ClickAsync("#upload");
        await Expect(upload.Locator("#error")).ToHaveAttributeAsync("data-code", "Bundle.ManifestMismatch");
        await Expect(upload.Locator("#reconcile-status")).ToHaveCountAsync(0);
    }

    /// <summary>The bundle with the last byte of its first header.bin flipped, every other entry as it was.</summary>
    private static void ChangeOneByte(string from, string to)
    {
        using var source = ZipFile.OpenRead(from);
        using var target = ZipFile.Open(to, ZipArchiveMode.Create);
        var changed = false;
        foreach (var entry in source.Entries)
        {
            using var input = entry.Open();
            using var buffer = new MemoryStream();
            input.CopyTo(buffer);
            var bytes = buffer.ToArray();
            if (!changed && entry.FullName.EndsWith("/header.bin", StringComparison.Ordinal))
            {
                bytes[^1] ^= 0x01;
                changed = true;
            }

            using var output = target.CreateEntry(entry.FullName).Open();
            output.Write(bytes);
        }

        Assert.That(changed, Is.True);
    }
}
