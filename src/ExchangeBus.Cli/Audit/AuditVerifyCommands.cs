// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ExchangeBus.Audit;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Node.Configuration;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit verify</c>: checks a node's message log from its data folder (the node's own, or
/// an auditor's copy): chain, Merkle tree, signed and time-stamped tree heads, record signatures
/// and certificates (docs/design/message-log.md, "Verifying a log").
/// </summary>
/// <remarks>
/// Exit codes: 0 the log verified; 3 it was read to the end or to a problem and a problem was
/// found (<c>error CODE: …</c> on stderr, CODE from <see cref="MessageLogProblems"/>); 2 the
/// verification could not run (no log, no trust: <see cref="CommandRunner"/>'s convention); 1 the
/// command line itself was wrong (System.CommandLine). A problem is not 1, so a script can never
/// take a mistyped option for a tampered log, nor the reverse.
/// </remarks>
internal static class AuditVerifyCommands
{
    public const int ProblemFoundExitCode = 3;

    public static Command CreateVerify()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder, or a copy of it (messagelog.db, node.json, anchor.json, globalconf.bin).", Required = true };
        var from = new Option<long>("--from") { Description = "First record to verify (the record before it is taken as given).", DefaultValueFactory = _ => 1 };
        var to = new Option<long?>("--to") { Description = "Last record to verify (default: the end of the log; only then is a cut tail detected)." };
        var anchor = new Option<string?>("--anchor") { Description = "Your own configuration anchor to verify the node's global configuration with (default: the folder's anchor.json)." };
        var noSignatures = new Option<bool>("--no-record-signatures") { Description = "Skip record signatures and certificates (the costly part); heads are still checked." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("verify", "Verify a node's message log: hash chain, Merkle tree, signed and time-stamped tree heads, record signatures.")
        {
            data, from, to, anchor, noSignatures, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            LogVerificationReport? report = null;
            var elapsed = Stopwatch.StartNew();
            var exit = CommandRunner.Run(parse, () =>
            {
                var folder = parse.GetValue(data)!;
                var logPath = new NodePaths(folder).MessageLog;
                if (!File.Exists(logPath))
                {
                    throw new CliException(LogVerificationErrors.NoMessageLog, $"{logPath} does not exist.");
                }

                using var trust = LogVerifierTrust.Load(folder, parse.GetValue(anchor));
                using var log = OpenLog(logPath);
                report = new LogVerifier(log, trust, new LogVerifierOptions
                {
                    FromSequence = Math.Max(1, parse.GetValue(from)),
                    ToSequence = parse.GetValue(to),
                    CheckRecordSignatures = !parse.GetValue(noSignatures),
                }).Verify(cancellationToken);
            });
            if (report is null)
            {
                return Task.FromResult(exit);
            }

            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["valid"] = report.IsValid,
                    ["problem"] = report.Problem,
                    ["sequence"] = report.Sequence,
                    ["tree_size"] = report.TreeSize,
                    ["detail"] = report.Detail,
                    ["from"] = report.FromSequence,
                    ["to"] = report.ToSequence,
                    ["records_checked"] = report.RecordsChecked,
                    ["signatures_checked"] = report.SignaturesChecked,
                    ["certificates_checked"] = report.CertificatesChecked,
                    ["heads_checked"] = report.HeadsChecked,
                    ["last_head_size"] = report.LastHeadSize,
                    ["not_yet_time_stamped"] = report.NotYetTimeStamped,
                    ["seconds"] = Math.Round(elapsed.Elapsed.TotalSeconds, 3),
                }));
            }
            else
            {
                Print(output, report, elapsed.Elapsed);
            }

            if (report.IsValid)
            {
                return Task.FromResult(0);
            }

            parse.InvocationConfiguration.Error.WriteLine($"error {report.Problem}: {report.Detail}");
            return Task.FromResult(ProblemFoundExitCode);
        });
        return command;
    }

    private static MessageLogReader OpenLog(string path)
    {
        try
        {
            return MessageLogReader.Open(path);
        }
        catch (InvalidOperationException ex)
        {
            throw new CliException(LogVerificationErrors.NoMessageLog, ex.Message);
        }
    }

    private static void Print(TextWriter output, LogVerificationReport report, TimeSpan elapsed)
    {
        string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
        output.WriteLine(report.IsValid
            ? Invariant($"valid: records {report.FromSequence} to {report.ToSequence}")
            : Invariant($"NOT VALID: {report.Problem} at {(report.Sequence is { } s ? $"record {s}" : $"tree head of size {report.TreeSize}")}"));
        output.WriteLine(Invariant($"  records checked: {report.RecordsChecked:N0} ({report.SignaturesChecked:N0} signatures, {report.CertificatesChecked} signer certificates)"));
        output.WriteLine(Invariant($"  tree heads checked: {report.HeadsChecked:N0} (largest head in the log: {report.LastHeadSize:N0} records)"));
        output.WriteLine(Invariant($"  not yet time-stamped: {report.NotYetTimeStamped:N0} records"));
        output.WriteLine(Invariant($"  {elapsed.TotalSeconds:F1} s, {(report.RecordsChecked / Math.Max(elapsed.TotalSeconds, 0.001)):N0} records/s"));
    }
}
