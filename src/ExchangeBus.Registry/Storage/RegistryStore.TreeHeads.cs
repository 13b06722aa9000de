// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.GlobalConf;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Merkle;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.TreeHeads;
using ExchangeBus.Core.TrustServices;
using Google.Protobuf;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

public sealed partial class RegistryStore
{
    private readonly Lock _viewGate = new();
    private GlobalConfigurationView? _view;

    /// <summary>The current global configuration, indexed; null before the first is published.</summary>
    public GlobalConfigurationView? CurrentView()
    {
        ulong version;
        using (var connection = _database.OpenConnection())
        {
            version = LatestConfigurationTimes(connection, null).Version;
        }

        lock (_viewGate)
        {
            if (_view is null || _view.Version != version)
            {
                var (_, signed) = CurrentConfiguration();
                _view = signed is not null
                    && GlobalConfigurationView.TryCreate(Contracts.GlobalConf.V1.GlobalConfiguration.Parser.ParseFrom(signed.Configuration), out var view, out _)
                    ? view
                    : null;
            }

            return _view;
        }
    }

    /// <summary>
    /// Takes a node's signed, time-stamped tree head (<see cref="TreeHeadChecks"/> for the
    /// checks on the head itself) and keeps it if it extends the last head held for the node:
    /// not smaller; previous_size equal to the held size; the consistency proof leading from
    /// the held root to the new one. The same head again is accepted and changes nothing. A
    /// different root for a size already held, or a head that does not extend the held one, is
    /// refused and kept apart as evidence. Returns the size of the latest head now held.
    /// </summary>
    public long SubmitTreeHead(NodeId caller, SubmitTreeHeadRequest request)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        VerifiedTreeHead head;
        using (var validator = new CertificateChainValidator([_keys.RootCertificate], _timeProvider))
        using (var timeStamps = new TimeStampTokenVerifier([_keys.TimeStamping], [], _timeProvider))
        {
            head = TreeHeadChecks.Verify(request.Head, request.ConsistencyProof, caller, validator, timeStamps);
        }

        switch (FindCertificateStatus(head.SignerSerialNumber))
        {
            case null:
                throw new RegistryException(global::Grpc.Core.StatusCode.PermissionDenied, RegistryErrors.InvalidSignerCertificate,
                    "The signer certificate was not issued by this registry.");
            case { Revoked: true }:
                throw new RegistryException(global::Grpc.Core.StatusCode.PermissionDenied, RegistryErrors.SignerCertificateRevoked,
                    "The signer certificate is revoked.");
        }

        var node = caller.ToString();
        var proof = request.ConsistencyProof.Select(p => p.ToByteArray()).ToArray();
        lock (_writer)
        {
            using var connection = _database.OpenConnection();
            RegistryException refusal;
            using (var transaction = _database.BeginWrite(connection))
            {
                var (latestSize, latestRoot) = LatestTreeHead(connection, transaction, node);
                var sameSize = Scalar(connection, transaction, "SELECT root_hash FROM tree_heads WHERE node = @a AND tree_size = @b", node, head.TreeSize) as byte[];
                if (sameSize is not null)
                {
                    if (sameSize.AsSpan().SequenceEqual(head.RootHash))
                    {
                        return latestSize;
                    }

                    refusal = new RegistryException(global::Grpc.Core.StatusCode.FailedPrecondition, RegistryErrors.TreeHeadConflict,
                        $"The registry holds another root for size {head.TreeSize}: the log was rewritten, or the node lost it.");
                    latestSize = head.TreeSize;
                    latestRoot = sameSize;
                }
                else if (head.TreeSize < latestSize)
                {
                    throw new RegistryException(global::Grpc.Core.StatusCode.FailedPrecondition, RegistryErrors.TreeHeadTooSmall,
                        $"The registry holds a head of size {latestSize}; a smaller one cannot follow it.");
                }
                else if ((long)request.PreviousSize != latestSize || (latestSize == 0 && proof.Length > 0))
                {
                    throw new RegistryException(global::Grpc.Core.StatusCode.FailedPrecondition, RegistryErrors.PreviousSizeMismatch,
                        $"The registry holds size {latestSize} for this node, not {request.PreviousSize}; prove consistency from {latestSize}.");
                }
                else if (latestSize > 0 && ConsistencyProblem(latestSize, head.TreeSize, latestRoot, head.RootHash, proof) is { } problem)
                {
                    refusal = new RegistryException(global::Grpc.Core.StatusCode.FailedPrecondition, RegistryErrors.InconsistentTreeHead,
                        $"The consistency proof from the held size {latestSize} to {head.TreeSize} does not verify ({problem}).");
                }
                else
                {
                    Execute(connection, transaction, """
                        INSERT INTO tree_heads (node, tree_size, root_hash, tree_head, signature, signer_certificate, time_stamp_token, received_at)
                        VALUES (@a, @b, @c, @d, @e, @f, @g, @h)
                        """,
                        node, head.TreeSize, head.RootHash, head.Signed.TreeHead.ToByteArray(), head.Signed.Signature.ToByteArray(),
                        head.Signed.SignerCertificate.ToByteArray(), head.Signed.TimeStampToken.ToByteArray(), Now());
                    transaction.Commit();
                    return head.TreeSize;
                }

                // Signed by the member's key and time-stamped: with the head held, this is proof
                // of a rewritten log (or a broken node), so it is kept, not only refused.
                Execute(connection, transaction, """
                    INSERT INTO tree_head_conflicts (node, error_code, held_size, held_root_hash, tree_size, root_hash, tree_head, signature,
                        signer_certificate, time_stamp_token, consistency_proof, received_at)
                    VALUES (@a, @b, @c, @d, @e, @f, @g, @h, @i, @j, @k, @l)
                    """,
                    node, refusal.Code, latestSize, latestRoot, head.TreeSize, head.RootHash, head.Signed.TreeHead.ToByteArray(),
                    head.Signed.Signature.ToByteArray(), head.Signed.SignerCertificate.ToByteArray(), head.Signed.TimeStampToken.ToByteArray(),
                    proof.SelectMany(p => p).ToArray(), Now());
                transaction.Commit();
            }

            throw refusal;
        }
    }

    /// <summary>The heads held for <paramref name="node"/> with size at least <paramref name="fromSize"/>, smallest first.</summary>
    public IReadOnlyList<SignedTreeHead> ReadTreeHeads(NodeId node, long fromSize, int limit)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, """
            SELECT tree_head, signature, signer_certificate, time_stamp_token FROM tree_heads
            WHERE node = @a AND tree_size >= @b ORDER BY tree_size LIMIT @c
            """, node.ToString(), fromSize, limit);
        using var reader = command.ExecuteReader();
        var heads = new List<SignedTreeHead>();
        while (reader.Read())
        {
            heads.Add(new SignedTreeHead
            {
                TreeHead = ByteString.CopyFrom((byte[])reader[0]),
                Signature = ByteString.CopyFrom((byte[])reader[1]),
                SignerCertificate = ByteString.CopyFrom((byte[])reader[2]),
                TimeStampToken = ByteString.CopyFrom((byte[])reader[3]),
            });
        }

        return heads;
    }

    /// <summary>How many refused heads were kept as evidence for <paramref name="node"/>, by error code.</summary>
    public IReadOnlyDictionary<string, long> CountTreeHeadConflicts(NodeId node)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, "SELECT error_code, COUNT(*) FROM tree_head_conflicts WHERE node = @a GROUP BY error_code", node.ToString());
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    private static (long Size, byte[] Root) LatestTreeHead(DbConnection c, DbTransaction t, string node)
    {
        using var command = Command(c, t, "SELECT tree_size, root_hash FROM tree_heads WHERE node = @a ORDER BY tree_size DESC LIMIT 1", node);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), (byte[])reader[1]) : (0, []);
    }

    /// <summary>
    /// Null when <paramref name="proof"/> shows the tree of <paramref name="newSize"/> extends
    /// the one of <paramref name="oldSize"/> (RFC 9162 §2.1.4.2), otherwise a code saying why not.
    /// </summary>
    private static string? ConsistencyProblem(long oldSize, long newSize, byte[] oldRoot, byte[] newRoot, byte[][] proof)
    {
        var result = MerkleVerifier.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof);
        return result.IsValid ? null : result.Code;
    }
}
