// SPDX-License-Identifier: Apache-2.0
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ExchangeBus.Node.Tests.Exchange;

/// <summary>The README's main command, run as a newcomer would: a separate process that must exit 0.</summary>
[NonParallelizable]
public sealed class DemoTests
{
    [Test]
    public async Task XbusDemo_AnswersThreeCallsTypedOnesAStreamAndARestCallRefusesOneAndVerifiesTheTrails()
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
        // The typed gRPC step: the registry's own stub, its answer and its own error, each with the exchange's id.
        Assert.That(text, Does.Contain("answer: Nguyễn Thị Lan, born 1990-05-17, Thành phố Hồ Chí Minh"), text);
        Assert.That(text, Does.Contain("the registry's own error: NotFound \"No citizen with that number.\", reason CITIZEN_NOT_FOUND (x-xbus-error-source: provider)"), text);
        Assert.That(Regex.Matches(text, @"x-road-id: [0-9A-Za-z-]{8,} \(the exchange").Count, Is.EqualTo(2), text);
        // The server-streaming call: each document printed as its message arrived, then the end.
        Assert.That(text, Does.Contain("message 1: 079201000123-1 Căn cước công dân (citizen identity card), issued 2021-04-02"), text);
        Assert.That(text, Does.Contain("message 2: 079201000123-2 Giấy phép lái xe (driving licence) B2, issued 2015-09-14"), text);
        Assert.That(Regex.IsMatch(text, @"stream ended OK after 2 messages; x-road-id: [0-9A-Za-z-]{8,} \(each message"), Is.True, text);
        // The REST call: the licence backend's JSON and the X-Road headers the nodes set.
        Assert.That(text, Does.Contain("200 application/json; charset=utf-8: {\"holder\":\"079201000123\",\"class\":\"B2\",\"valid\":true,\"askedBy\":\"VN/GOV/000.00.00.P01/one-stop\"}"), text);
        Assert.That(text, Does.Contain("X-Road-Client: VN/GOV/000.00.00.P01/one-stop\n").Or.Contain("X-Road-Client: VN/GOV/000.00.00.P01/one-stop\r\n"), text);
        Assert.That(text, Does.Contain("X-Road-Service: VN/GOV/000.00.00.G01/driving-licence/licenceRegistry"), text);
        Assert.That(Regex.IsMatch(text, @"X-Road-Id: [0-9A-Za-z-]{8,}"), Is.True, text);
        Assert.That(Regex.IsMatch(text, @"X-Road-Request-Id: [0-9a-f]{32}"), Is.True, text);
        Assert.That(Regex.IsMatch(text, @"X-Road-Request-Hash: [A-Za-z0-9+/]{43}="), Is.True, text);
        Assert.That(text, Does.Contain("3 files received and acknowledged; the sender's node sees 3 of 3 acknowledged"), text);
        Assert.That(text, Does.Contain("already accepted, nothing stored twice"));
        Assert.That(text, Does.Not.Contain("DOES NOT MATCH"));
        Assert.That(text, Does.Not.Contain("BROKEN"));
        Assert.That(text, Does.Contain("Demo complete."));
    }
}
