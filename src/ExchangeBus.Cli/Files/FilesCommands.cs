// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using Google.Protobuf;

namespace ExchangeBus.Cli.Files;

/// <summary>
/// <c>xbus files send|status|receive|list</c>: file sync as an agency system uses it, through its
/// node's local listener (docs/files.md); <c>xbus files retry</c>, the operator's retry of a failed
/// delivery, the same way. Refusals print the node's stable code: <c>error CODE: …</c>.
/// </summary>
internal static class FilesCommands
{
    public const string BadFile = "Cli.Files.BadFile";

    /// <summary><c>receive</c>: the path a file would be saved at holds a different file, which is never overwritten.</summary>
    public const string TargetExists = "Cli.Files.TargetExists";

    private const int PieceBytes = 1024 * 1024;

    private static readonly Option<string> NodeOption = new("--node") { Description = "The node's local address.", DefaultValueFactory = _ => "http://127.0.0.1:5600" };
    private static readonly Option<bool> JsonOption = new("--json") { Description = "Print the answer as JSON." };

    public static Command Create()
    {
        var files = new Command("files", "Citizen file sync: send files to other agencies' subsystems, follow them, receive them.");
        files.Subcommands.Add(CreateSend());
        files.Subcommands.Add(CreateStatus());
        files.Subcommands.Add(CreateReceive());
        files.Subcommands.Add(CreateList());
        files.Subcommands.Add(CreateRetry());
        return files;
    }

    private static Command CreateSend()
    {
        var path = new Argument<string>("path") { Description = "The file to send." };
        var client = new Option<string>("--client") { Description = "Sending subsystem, registered on the node.", Required = true };
        var to = new Option<string[]>("--to") { Description = "Recipient subsystem (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        var id = new Option<string>("--file-id") { Description = "The file's id, its idempotency key: sending the same id again stores nothing new.", Required = true };
        var dossier = new Option<string?>("--dossier") { Description = "Dossier id." };
        var version = new Option<uint>("--dossier-version") { Description = "Dossier version; a newer one supersedes older ones for the recipient.", DefaultValueFactory = _ => 1 };
        var subject = new Option<string?>("--subject-id") { Description = "The citizen the file is about." };
        var type = new Option<string>("--content-type") { Description = "Media type.", DefaultValueFactory = _ => "application/octet-stream" };
        var name = new Option<string?>("--name") { Description = "File name the recipient sees [default: the file's own name]." };
        var command = new Command("send", "Send a file; the node answers with its signed acceptance and delivers it.") { path, NodeOption, client, to, id, dossier, version, subject, type, name, JsonOption };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var file = parse.GetValue(path)!;
            if (!File.Exists(file))
            {
                throw new CliException(BadFile, $"{file} does not exist.");
            }

            // Hashed first, streamed second: the node checks the content against the metadata.
            byte[] sha;
            long size;
            await using (var read = File.OpenRead(file))
            {
                sha = await SHA256.HashDataAsync(read, cancellationToken).ConfigureAwait(false);
                size = read.Length;
            }

            using var channel = Channel(parse);
            using var call = new FilesClient(channel).Send(new CallOptions(cancellationToken: cancellationToken));
            await call.WriteOrAnswerAsync(new SendRequest
            {
                Metadata = new FileMetadata
                {
                    FileId = parse.GetValue(id)!,
                    Sender = parse.GetValue(client)!,
                    DossierId = parse.GetValue(dossier) ?? string.Empty,
                    DossierVersion = parse.GetValue(version),
                    SubjectId = parse.GetValue(subject) ?? string.Empty,
                    ContentType = parse.GetValue(type)!,
                    FileName = parse.GetValue(name) ?? Path.GetFileName(file),
                    Size = (ulong)size,
                    Sha256 = ByteString.CopyFrom(sha),
                    Recipients = { parse.GetValue(to)! },
                },
            }, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[PieceBytes];
            await using (var read = File.OpenRead(file))
            {
                int n;
                while ((n = await read.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(buffer, 0, n) }, cancellationToken).ConfigureAwait(false);
                }
            }

            await call.CompleteOrAnswerAsync().ConfigureAwait(false);
            var response = await call.ResponseAsync.ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(JsonOption))
            {
                output.WriteLine(JsonFormatter.Default.Format(response));
                return;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(response.Created ? "accepted" : "already accepted")} file {parse.GetValue(id)}: {size} bytes, SHA-256 {Convert.ToHexStringLower(sha)}, for {string.Join(", ", parse.GetValue(to)!)}"));
        }));
        return command;
    }

    private static Command CreateStatus()
    {
        var client = new Option<string>("--client") { Description = "The sending or receiving subsystem.", Required = true };
        var id = new Option<string>("--file-id") { Description = "The file's id.", Required = true };
        var command = new Command("status", "A file's state per recipient: accepted, sending, delivered, acknowledged, failed (with the reason).") { NodeOption, client, id, JsonOption };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            using var channel = Channel(parse);
            var status = await new FilesClient(channel).StatusAsync(new StatusRequest { Client = parse.GetValue(client)!, FileId = parse.GetValue(id)! }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(JsonOption))
            {
                output.WriteLine(JsonFormatter.Default.Format(status));
                return;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"file {status.Metadata.FileId} ({status.Metadata.FileName}, {status.Metadata.Size} bytes, dossier {Or(status.Metadata.DossierId)} v{status.Metadata.DossierVersion}) from {status.Metadata.Sender}"));
            foreach (var r in status.Recipients)
            {
                var reason = r.Reason.Length == 0 ? string.Empty : $"  {r.Reason}";
                var resumed = r.ResumedFrom > 0 ? string.Create(CultureInfo.InvariantCulture, $"  resumed from byte {r.ResumedFrom}") : string.Empty;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {r.Recipient}  {DeliveryStates.Name(r.State)}{reason}  attempts {r.Attempts}{resumed}{(r.Receipt is null ? string.Empty : "  signed receipt held")}"));
            }
        }));
        return command;
    }

    private static Command CreateReceive()
    {
        var recipient = new Option<string>("--recipient") { Description = "The receiving subsystem, registered on the node.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to save files in, as <out>/<file id>/<name>.", Required = true };
        var ack = new Option<bool>("--ack") { Description = "Acknowledge each file once saved and its SHA-256 checked (unacknowledged files come again)." };
        var follow = new Option<bool>("--follow") { Description = "After the waiting files, keep receiving each new file as it arrives, until interrupted." };
        var command = new Command("receive", "Save the files delivered to a subsystem and not yet acknowledged.") { NodeOption, recipient, output, ack, follow, JsonOption };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var folder = parse.GetValue(output)!;
            var subsystem = parse.GetValue(recipient)!;
            using var channel = Channel(parse);
            using var call = new FilesClient(channel).Receive(new ReceiveRequest { Recipient = subsystem, IncludeContent = true, Follow = parse.GetValue(follow) }, new CallOptions(cancellationToken: cancellationToken));
            var text = parse.InvocationConfiguration.Output;
            var saved = 0;
            ReceivedFile? current = null;
            FileStream? target = null;
            var finalPath = string.Empty;
            IncrementalHash? hash = null;
            try
            {
                while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    var part = call.ResponseStream.Current;
                    if (part.PartCase == ReceiveResponse.PartOneofCase.File)
                    {
                        await FinishAsync().ConfigureAwait(false);
                        current = part.File;
                        var name = current.Metadata.FileName;
                        if (Path.GetFileName(name) != name || name is "." or ".." || Path.GetFileName(current.Metadata.FileId) != current.Metadata.FileId)
                        {
                            // The node refuses such names; this is the last line of defence, not the first.
                            throw new CliException(BadFile, "The node handed out a file whose name or id is not a plain file name.");
                        }

                        // The folder must be inside --out, whatever the id says: ids are checked by
                        // both nodes, but a file written outside the operator's folder is the one
                        // mistake this command must never make.
                        var root = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
                        var directoryPath = Path.GetFullPath(Path.Combine(root, current.Metadata.FileId));
                        if (current.Metadata.FileId is "." or ".." || !directoryPath.StartsWith(root, StringComparison.Ordinal))
                        {
                            throw new CliException(BadFile, "The node handed out a file whose id is not a plain folder name.");
                        }

                        var directory = Directory.CreateDirectory(directoryPath).FullName;
                        finalPath = Path.Combine(directory, name);
                        target = new FileStream(Path.Combine(directory, $".xbus-{Guid.NewGuid():N}.partial"), FileMode.CreateNew, FileAccess.Write);
                        hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    }
                    else if (target is not null)
                    {
                        await target.WriteAsync(part.Chunk.Memory, cancellationToken).ConfigureAwait(false);
                        hash!.AppendData(part.Chunk.Span);
                    }

                    // A file is finished once all its bytes are here, not when the next one begins:
                    // a following stream may wait a long time for the next.
                    if (target is not null && target.Length >= (long)current!.Metadata.Size)
                    {
                        await FinishAsync().ConfigureAwait(false);
                    }
                }

                await FinishAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException && cancellationToken.IsCancellationRequested && parse.GetValue(follow))
            {
                // Following ends when the operator (or the service manager) stops it: not an error.
            }
            finally
            {
                if (target is not null)
                {
                    // Interrupted mid-file: the partial copy goes; the file is still pending on the node.
                    await target.DisposeAsync().ConfigureAwait(false);
                    File.Delete(target.Name);
                }

                hash?.Dispose();
            }

            if (saved == 0 && !parse.GetValue(JsonOption))
            {
                text.WriteLine("no files waiting");
            }

            async Task FinishAsync()
            {
                if (current is null || target is null)
                {
                    return;
                }

                var partial = target.Name;
                var path = finalPath;
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
                target.Flush(flushToDisk: true);
                await target.DisposeAsync().ConfigureAwait(false);
                target = null;
                var sha = hash!.GetHashAndReset();
                hash.Dispose();
                hash = null;
                if (!CryptographicOperations.FixedTimeEquals(sha, current.Metadata.Sha256.Span))
                {
                    File.Delete(partial);
                    throw new CliException(FileErrors.HashMismatch, $"File {current.Metadata.FileId} did not arrive intact; it was not saved or acknowledged.");
                }

                // The file appears under its name only whole and checked. File ids are unique per
                // sender, not per node: a different file already saved at that path (another
                // sender's with the same id and name) is never overwritten; the same bytes (saved
                // before an interruption stopped the acknowledgement) count as saved.
                if (File.Exists(path))
                {
                    File.Delete(partial);
                    if (!CryptographicOperations.FixedTimeEquals(await HashFileAsync(path, cancellationToken).ConfigureAwait(false), sha))
                    {
                        throw new CliException(TargetExists,
                            $"{path} already holds a different file; file {current.Metadata.FileId} from {current.Metadata.Sender} was not saved or acknowledged (receive it into another --out).");
                    }
                }
                else
                {
                    File.Move(partial, path);
                }

                // Saved and checked: acknowledged (and reported) now, so a follower that is
                // interrupted later has lost nothing it was told about.
                if (parse.GetValue(ack))
                {
                    await new FilesClient(channel).AcknowledgeAsync(new AcknowledgeRequest { Recipient = subsystem, Sender = current.Metadata.Sender, FileId = current.Metadata.FileId }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
                }

                text.WriteLine(parse.GetValue(JsonOption)
                    ? JsonFormatter.Default.Format(current)
                    : string.Create(CultureInfo.InvariantCulture,
                        $"received file {current.Metadata.FileId} from {current.Metadata.Sender} (dossier {Or(current.Metadata.DossierId)} v{current.Metadata.DossierVersion}): {path}, {current.Metadata.Size} bytes, SHA-256 checked{(parse.GetValue(ack) ? ", acknowledged" : string.Empty)}"));
                text.Flush();
                saved++;
            }
        }));
        return command;
    }

    private static async Task<byte[]> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    private static Command CreateList()
    {
        var client = new Option<string>("--client") { Description = "The subsystem whose files to list.", Required = true };
        var dossier = new Option<string?>("--dossier") { Description = "Only this dossier's history, every version." };
        var limit = new Option<int?>("--limit") { Description = "At most this many files; when more follow, the last line says so, with the --page-token that continues [default: every file]." };
        var pageToken = new Option<string?>("--page-token") { Description = "Continue a listing a --limit stopped, from the token it printed." };
        var pageSize = new Option<uint>("--page-size") { Description = "Files asked for per call (the node gives at most 10,000) [default: the node's, 1,000]." };
        var command = new Command("list", "Files a subsystem sent or received, or one dossier's history.") { NodeOption, client, dossier, limit, pageToken, pageSize, JsonOption };
        command.Validators.Add(result =>
        {
            if (result.GetValue(limit) is < 1)
            {
                result.AddError("--limit must be at least 1.");
            }
        });
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            using var channel = Channel(parse);
            var request = new ListRequest
            {
                Client = parse.GetValue(client)!,
                DossierId = parse.GetValue(dossier) ?? string.Empty,
                PageToken = parse.GetValue(pageToken) ?? string.Empty,
                PageSize = parse.GetValue(pageSize),
            };
            var list = await ListAsync(channel, request, parse.GetValue(limit), cancellationToken).ConfigureAwait(false);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(JsonOption))
            {
                output.WriteLine(JsonFormatter.Default.Format(list));
                return;
            }

            foreach (var f in list.Files)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{f.At.ToDateTimeOffset():yyyy-MM-ddTHH:mm:ssZ}  {f.Direction,-8}  {DeliveryStates.Name(f.State),-12}  dossier {Or(f.Metadata.DossierId)} v{f.Metadata.DossierVersion}  {f.Metadata.FileId}  {f.Metadata.FileName}  {f.Metadata.Size} bytes"));
            }

            if (list.Files.Count == 0)
            {
                output.WriteLine("no files");
            }

            if (list.NextPageToken.Length > 0)
            {
                output.WriteLine($"more files follow: --page-token {list.NextPageToken}");
            }
        }));
        return command;
    }

    /// <summary>
    /// Walks <c>List</c>'s pages from <paramref name="request"/>'s token: every file, or the first
    /// <paramref name="limit"/>. The answer's <c>next_page_token</c> is set when files follow the
    /// ones it holds, so a caller that stops early still learns there is more.
    /// </summary>
    internal static async Task<ListResponse> ListAsync(GrpcChannel channel, ListRequest request, int? limit, CancellationToken cancellationToken)
    {
        var all = new ListResponse();
        request = request.Clone();
        while (true)
        {
            if (limit is { } most)
            {
                request.PageSize = (uint)Math.Min(request.PageSize == 0 ? uint.MaxValue : request.PageSize, most - all.Files.Count);
            }

            var page = await new FilesClient(channel).ListAsync(request, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            all.Files.Add(page.Files);
            all.NextPageToken = page.NextPageToken;
            if (page.NextPageToken.Length == 0 || all.Files.Count >= limit)
            {
                return all;
            }

            request.PageToken = page.NextPageToken;
        }
    }

    /// <summary>
    /// The node's <c>Files.Retry</c> as the sending subsystem, naming <c>cli:USER</c> as who asked;
    /// the request, done or refused, goes into the node's admin audit log (admin.db in
    /// <c>--data</c>) with that actor, as <c>xbus node</c>'s edits and the console's retries do.
    /// </summary>
    private static Command CreateRetry()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder, whose admin audit log records the retry.", DefaultValueFactory = _ => "node-data" };
        var client = new Option<string>("--client") { Description = "The sending subsystem, registered on the node.", Required = true };
        var id = new Option<string>("--file-id") { Description = "The file's id.", Required = true };
        var to = new Option<string>("--to") { Description = "The recipient subsystem whose delivery failed.", Required = true };
        var command = new Command("retry", "Put a failed delivery back in the queue with a fresh attempt budget (the failure stays in the message log; the retry is recorded after it).") { NodeOption, data, client, id, to, JsonOption };
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var paths = new ExchangeBus.Node.Configuration.NodePaths(parse.GetValue(data)!);

            // Read first: a folder without node.json gets the "run node init" answer, not a fresh admin.db.
            _ = ExchangeBus.Node.Configuration.NodeSettings.Read(paths.Settings);
            var accounts = ExchangeBus.Node.WebConsole.NodeAdminDatabase.Open(paths).Accounts(TimeProvider.System);
            var actor = "cli:" + Environment.UserName;
            var request = new RetryRequest { Client = parse.GetValue(client)!, FileId = parse.GetValue(id)!, Recipient = parse.GetValue(to)!, RequestedBy = actor };
            var details = new { sender = request.Client, fileId = request.FileId, recipient = request.Recipient };
            RetryResponse response;
            try
            {
                using var channel = Channel(parse);
                response = await new FilesClient(channel).RetryAsync(request, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                // Unanswered too (the node down, say): the log shows the attempt and that it was not done.
                accounts.RecordEvent(actor, DeliveryRetry.AuditAction, false, ex.ErrorCode ?? "Rpc." + ex.StatusCode, details);
                throw;
            }

            accounts.RecordEvent(actor, DeliveryRetry.AuditAction, true, string.Empty, details);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(JsonOption))
            {
                output.WriteLine(JsonFormatter.Default.Format(response));
                return;
            }

            output.WriteLine($"retrying file {request.FileId} for {response.Delivery.Recipient}: {DeliveryStates.Name(response.Delivery.State)}, due now");
        }));
        return command;
    }

    private static GrpcChannel Channel(ParseResult parse) => BusChannel.Create(new Uri(parse.GetValue(NodeOption)!), new BusChannelOptions());

    private static string Or(string text) => text.Length == 0 ? "-" : text;
}
