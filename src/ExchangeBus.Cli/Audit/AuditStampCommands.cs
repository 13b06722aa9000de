// SPDX-License-Identifier: Apache-2.0
using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ExchangeBus.Cli.Internal;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TreeHeads;
using ExchangeBus.Core.TrustServices;

namespace ExchangeBus.Cli.Audit;

/// <summary>
/// <c>xbus audit stamp</c>: asks a node, through its audit API, to time-stamp its log now rather
/// than at its next interval, and prints the head it returns once that head has verified with
/// the roots the auditor trusts.
/// </summary>
/// <remarks>
/// There is no operator path from the data folder: the running node is the only writer of its
/// tree heads (its stamper knows which sizes it has signed), and a stopped node stamps on its
/// next start. An operator who wants a stamp now stops the node gracefully (which stamps) or
/// holds a member auditor certificate for its own member.
/// </remarks>
internal static class AuditStampCommands
{
    /// <summary>The head the node returned does not verify with the roots given.</summary>
    public const string HeadInvalid = "Audit.TreeHeadInvalid";

    public static Command CreateStamp()
    {
        var command = new Command("stamp",
            "Ask a node to time-stamp its message log now: it signs a tree head over every record written so far, has the registry's TSA stamp it, and returns it.");
        AuditorConnection.AddRemoteOptions(command);
        command.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, cancellationToken, async () =>
        {
            var roots = AuditorConnection.Roots(parse);
            try
            {
                var response = await AuditRemoteCommands.WithChannel(parse, channel =>
                    new AuditService.AuditServiceClient(channel).StampTreeHeadAsync(new StampTreeHeadRequest(), AuditorConnection.Call(cancellationToken)).ResponseAsync, roots).ConfigureAwait(false);
                var head = Verify(response.Head, roots);
                var text = parse.InvocationConfiguration.Output;
                if (parse.GetValue(AuditorConnection.JsonOption))
                {
                    text.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["node"] = head.Node,
                        ["tree_size"] = head.TreeSize,
                        ["root_hash"] = Convert.ToHexStringLower(head.RootHash),
                        ["created_at"] = head.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
                        ["time_stamp_time"] = head.TimeStampTime.ToString("O", CultureInfo.InvariantCulture),
                        ["tsa"] = head.Tsa,
                    }));
                    return;
                }

                text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tree head over {head.TreeSize} records of {head.Node}"));
                text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time-stamped: {head.TimeStampTime:O} by {head.Tsa}"));
                text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  signed:       {head.CreatedAt:O} (the node's clock)"));
                text.WriteLine($"  root:         {Convert.ToHexStringLower(head.RootHash)}");
            }
            finally
            {
                AuditorConnection.DisposeAll(roots);
            }
        }));
        return command;
    }

    private sealed record StampedHead(string Node, long TreeSize, byte[] RootHash, DateTimeOffset CreatedAt, DateTimeOffset TimeStampTime, string Tsa);

    /// <summary>
    /// The checks the registry makes on a head a node publishes (<see cref="TreeHeadChecks"/>), with
    /// the auditor's roots: signed by a signing certificate of the member whose node the head
    /// names, time-stamped over its bytes by a TSA certified under those roots.
    /// </summary>
    private static StampedHead Verify(SignedTreeHead? signed, IReadOnlyList<X509Certificate2> roots)
    {
        if (signed is null || !TryNode(signed, out var node, out var createdAt))
        {
            throw new CliException(HeadInvalid, "The node answered without a tree head naming a node and a time.");
        }

        using var chains = new CertificateChainValidator(roots, TimeProvider.System);
        using var timeStamps = new TimeStampTokenVerifier([], roots, TimeProvider.System);
        VerifiedTreeHead verified;
        try
        {
            verified = TreeHeadChecks.Verify(signed, [], node, chains, timeStamps);
        }
        catch (RegistryException ex)
        {
            throw new CliException(HeadInvalid, $"The node's tree head does not verify ({ex.Code}): {ex.Message}");
        }

        var token = timeStamps.VerifyTokenForHash(signed.TimeStampToken.Span, SHA256.HashData(signed.TreeHead.Span));
        using var tsa = token.Signer!;
        return new StampedHead(node.ToString(), verified.TreeSize, verified.RootHash, createdAt, token.GenTime!.Value, tsa.Subject);
    }

    private static bool TryNode(SignedTreeHead signed, [NotNullWhen(true)] out NodeId? node, out DateTimeOffset createdAt)
    {
        node = null;
        createdAt = default;
        try
        {
            var head = TreeHead.Parser.ParseFrom(signed.TreeHead);
            if (head.CreatedAt is null || !NodeId.TryParse(head.Node, out node))
            {
                return false;
            }

            createdAt = head.CreatedAt.ToDateTimeOffset();
            return true;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return false;
        }
    }
}
