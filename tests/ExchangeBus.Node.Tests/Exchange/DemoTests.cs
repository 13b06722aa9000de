// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>The README's main command, run as a newcomer would: a separate process that must exit 0.</summary>
[NonParallelizable]
public sealed class DemoTests
{
    [Test]
    public async Task XbusDemo_AnswersThreeCallsRefusesOneAndVerifiesTheTrails()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "xbus.dll"));
        info.ArgumentList.Add("demo");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var text = await output;

        Assert.That(process.ExitCode, Is.Zero, text + await error);
        Assert.That(text.Split('\n').Count(l => l.Contains("answered by", StringComparison.Ordinal)), Is.EqualTo(3), text);
        Assert.That(text, Does.Contain("refused: Server.ServerProxy.AccessDenied"));
        Assert.That(text, Does.Contain("3 files received and acknowledged; the sender's node sees 3 of 3 acknowledged"), text);
        Assert.That(text, Does.Contain("already accepted, nothing stored twice"));
        Assert.That(text, Does.Not.Contain("DOES NOT MATCH"));
        Assert.That(text, Does.Not.Contain("BROKEN"));
        Assert.That(text, Does.Contain("Demo complete."));
    }
}
