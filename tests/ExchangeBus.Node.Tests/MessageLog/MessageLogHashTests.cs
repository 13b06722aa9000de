// SPDX-License-Identifier: Apache-2.0
using System.Security.Cryptography;
using ExchangeBus.Node.MessageLog;
using Microsoft.Extensions.Time.Testing;

namespace ExchangeBus.Node.Tests.MessageLog;

/// <summary>
/// The test vector of docs/design/message-log.md, computed there by an independent (Python)
/// implementation of the documented encoding: the hashes the log stores must be exactly these.
/// </summary>
public sealed class MessageLogHashTests
{
    private const string Record1Hash = "e18b82b32234a09871821316e860a7375e4164ad5c5a516931474b44fa67274d";
    private const string Record2Hash = "08b8a11a30171c6a38fe1aad93528669d2d66bc81c96440642c039c383db4783";

    [Test]
    public async Task StoredHashes_MatchTheDocumentedTestVector()
    {
        using var folder = new TempLogFolder();
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 15, 12, 0, 0, TimeSpan.Zero));
        await using var log = Records.Open(folder.LogPath, clock);
        var first = new MessageLogRecord
        {
            MessageId = "msg-1",
            Direction = MessageDirection.ClientRequest,
            Client = "VN/GOV/000.00.00.G01/dossier",
            Service = "VN/GOV/000.00.00.H01/registry/getCitizen/v1",
            UserId = "officer-42",
            SubjectId = null,
            Issue = string.Empty,
            Status = MessageLogRecord.StatusOk,
            Header = "header"u8.ToArray(),
            Body = "body"u8.ToArray(),
            BodySha256 = SHA256.HashData("body"u8),
            Signature = "sig"u8.ToArray(),
            SignerCertificateSha256 = null,
            CorrelationId = "corr-1",
        };
        var second = first with
        {
            Direction = MessageDirection.ClientResponse,
            SubjectId = "VN-CITIZEN-1",
            Body = null,
            Status = "Server.ServerProxy.AccessDenied",
            SignerCertificateSha256 = SHA256.HashData("cert"u8),
        };

        await log.AppendAsync(first);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await log.AppendAsync(second);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Convert.ToHexStringLower(log.Get(1)!.Hash), Is.EqualTo(Record1Hash));
            Assert.That(Convert.ToHexStringLower(log.Get(2)!.PreviousHash), Is.EqualTo(Record1Hash));
            Assert.That(Convert.ToHexStringLower(log.Get(2)!.Hash), Is.EqualTo(Record2Hash));

            // Verify recomputes each hash from the stored row's bytes (RecordChunk): it must
            // arrive at the same documented hashes, not merely agree with the writer.
            Assert.That(log.Verify(), Is.EqualTo(new MessageLogVerification(true, 2, null, null, null)));
        }
    }

    [Test]
    public void Encoding_IsUnambiguous_WhereFieldBoundariesMove()
    {
        // Moving text from one field to the next must change the hash (the length prefixes).
        var a = Records.Make("msg-1") with { UserId = "ab", Issue = "c" };
        var b = a with { UserId = "a", Issue = "bc" };
        var noneSubject = a with { SubjectId = null };

        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var prev = new byte[32];
        var ha = MessageLogHash.Compute(hasher, prev, 1, 0, a);
        var hb = MessageLogHash.Compute(hasher, prev, 1, 0, b);
        var hEmptySubject = MessageLogHash.Compute(hasher, prev, 1, 0, a with { SubjectId = string.Empty });
        var hNoSubject = MessageLogHash.Compute(hasher, prev, 1, 0, noneSubject);
        var hEmptyCert = MessageLogHash.Compute(hasher, prev, 1, 0, a with { SignerCertificateSha256 = [] });
        var hNoCert = MessageLogHash.Compute(hasher, prev, 1, 0, a with { SignerCertificateSha256 = null });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ha, Is.Not.EqualTo(hb));
            Assert.That(hEmptySubject, Is.EqualTo(hNoSubject), "the log stores an empty subject as none");
            Assert.That(hEmptyCert, Is.Not.EqualTo(hNoCert), "absent and empty are different values");
        }
    }
}
