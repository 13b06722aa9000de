// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ExchangeBus.Contracts.Exchange.V1;
using ExchangeBus.Contracts.Files.V1;
using ExchangeBus.Grpc;
using Grpc.Core;
using FilesClient = ExchangeBus.Contracts.Files.V1.Files.FilesClient;
using Grpc.Net.Client;
using ExchangeBus.Node.Files;
using Google.Protobuf;

namespace ExchangeBus.Cli.Demo;

/// <summary>The demo's file-sync step: a dossier with attachments sent, delivered, received, acknowledged.</summary>
internal static class DemoFileSync
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(
        TextWriter output, GrpcChannel sender, string senderSubsystem, GrpcChannel recipient, string recipientSubsystem, string dossier, CancellationToken cancellationToken)
    {
        var files = new (string Id, string Name, string Type, byte[] Content)[]
        {
            ($"{dossier}-application", "application.pdf", "application/pdf", Sample("application form", 48 * 1024)),
            ($"{dossier}-id-card", "id-card.jpg", "image/jpeg", Sample("identity card scan", 300 * 1024)),
            ($"{dossier}-medical", "medical-certificate.pdf", "application/pdf", Sample("medical certificate", 2_500_000)),
        };

        foreach (var file in files)
        {
            var accepted = await SendAsync(sender, senderSubsystem, recipientSubsystem, dossier, file, cancellationToken).ConfigureAwait(false);
            var signer = MessageHeader.Parser.ParseFrom(accepted.Acceptance.Header);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"      {file.Name} ({file.Content.Length / 1024} KiB): accepted by node {signer.SenderNode}, acceptance signed"));
        }

        foreach (var file in files)
        {
            var state = await SettledAsync(sender, senderSubsystem, file.Id, cancellationToken).ConfigureAwait(false);
            var receipt = state.Receipt is null ? null : MessageHeader.Parser.ParseFrom(state.Receipt.Header);
            output.WriteLine(state.State == DeliveryState.Delivered
                ? $"      {file.Name}: delivered to {state.Recipient}; signed receipt from node {receipt!.SenderNode} kept"
                : $"      {file.Name}: {DeliveryStates.Name(state.State)} {state.Reason}");
        }

        var again = await SendAsync(sender, senderSubsystem, recipientSubsystem, dossier, files[0], cancellationToken).ConfigureAwait(false);
        output.WriteLine($"      {files[0].Name} sent again under the same file id: {(again.Created ? "stored AGAIN" : "already accepted, nothing stored twice")}");

        // The recipient's system pulls what is waiting, checks each file against the sender's signed manifest, acknowledges.
        var received = 0;
        using (var call = new FilesClient(recipient).Receive(new ReceiveRequest { Recipient = recipientSubsystem, IncludeContent = true }, new CallOptions(cancellationToken: cancellationToken)))
        {
            var pending = new List<(ReceivedFile File, IncrementalHash Hash)>();
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var part = call.ResponseStream.Current;
                if (part.PartCase == ReceiveResponse.PartOneofCase.File)
                {
                    pending.Add((part.File, IncrementalHash.CreateHash(HashAlgorithmName.SHA256)));
                }
                else
                {
                    pending[^1].Hash.AppendData(part.Chunk.Span);
                }
            }

            foreach (var (file, hash) in pending)
            {
                var intact = CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), file.Metadata.Sha256.Span);
                hash.Dispose();
                output.WriteLine($"      {recipientSubsystem} receives {file.Metadata.FileName} (dossier {file.Metadata.DossierId} v{file.Metadata.DossierVersion}) from {file.Metadata.Sender}: SHA-256 {(intact ? "matches the signed manifest" : "DOES NOT MATCH")}");
                if (intact)
                {
                    await new FilesClient(recipient).AcknowledgeAsync(new AcknowledgeRequest { Recipient = recipientSubsystem, Sender = file.Metadata.Sender, FileId = file.Metadata.FileId }, new CallOptions(deadline: DateTime.UtcNow + Patience, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
                    received++;
                }
            }
        }

        var acknowledged = 0;
        foreach (var file in files)
        {
            var status = await new FilesClient(sender).StatusAsync(new StatusRequest { Client = senderSubsystem, FileId = file.Id }, new CallOptions(deadline: DateTime.UtcNow + Patience, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            acknowledged += status.Recipients.Count(r => r.State == DeliveryState.Acknowledged);
        }

        output.WriteLine($"      {received} files received and acknowledged; the sender's node sees {acknowledged} of {files.Length} acknowledged");
    }

    private static async Task<SendResponse> SendAsync(
        GrpcChannel sender, string senderSubsystem, string recipient, string dossier, (string Id, string Name, string Type, byte[] Content) file, CancellationToken cancellationToken)
    {
        using var call = new FilesClient(sender).Send(new CallOptions(cancellationToken: cancellationToken));
        await call.WriteOrAnswerAsync(new SendRequest
        {
            Metadata = new FileMetadata
            {
                FileId = file.Id, Sender = senderSubsystem, DossierId = dossier, DossierVersion = 1, SubjectId = "079201000123",
                ContentType = file.Type, FileName = file.Name, Size = (ulong)file.Content.Length,
                Sha256 = ByteString.CopyFrom(SHA256.HashData(file.Content)), Recipients = { recipient },
            },
        }, cancellationToken).ConfigureAwait(false);
        for (var at = 0; at < file.Content.Length; at += 1024 * 1024)
        {
            await call.WriteOrAnswerAsync(new SendRequest { Chunk = ByteString.CopyFrom(file.Content, at, Math.Min(1024 * 1024, file.Content.Length - at)) }, cancellationToken).ConfigureAwait(false);
        }

        await call.CompleteOrAnswerAsync().ConfigureAwait(false);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    private static async Task<RecipientState> SettledAsync(GrpcChannel sender, string senderSubsystem, string fileId, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            var status = await new FilesClient(sender).StatusAsync(new StatusRequest { Client = senderSubsystem, FileId = fileId }, new CallOptions(deadline: DateTime.UtcNow + Patience, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
            var state = status.Recipients[0];
            if (state.State is DeliveryState.Delivered or DeliveryState.Acknowledged or DeliveryState.Failed || DateTimeOffset.UtcNow > until)
            {
                return state;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stand-in content: a readable line repeated to the size wanted.</summary>
    private static byte[] Sample(string what, int size)
    {
        var line = Encoding.UTF8.GetBytes($"[{what}: sample content for the demo]\n");
        var content = new byte[size];
        for (var at = 0; at < size; at += line.Length)
        {
            line.AsSpan(0, Math.Min(line.Length, size - at)).CopyTo(content.AsSpan(at));
        }

        return content;
    }
}
