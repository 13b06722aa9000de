// SPDX-License-Identifier: Apache-2.0
using System.Data.Common;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Core.Registration;
using ExchangeBus.Core.AdminAudit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

public sealed partial class RegistryStore
{
    /// <summary>A registration is two P-256 CSRs of a few hundred bytes, identifiers and an address: 8 KiB is ample.</summary>
    public const int MaxRegistrationBytes = 8 * 1024;

    /// <summary>An ECDSA P-256 signature in DER is at most 72 bytes.</summary>
    private const int MaxRegistrationSignatureBytes = 256;

    /// <summary>How long a registration may wait for a decision, and how many may wait at once (set by the host).</summary>
    public RegistrationLimits RegistrationLimits { get; init; } = RegistrationLimits.Default;

    /// <summary>
    /// Takes a node's request to join. Refused when: the bytes do not parse; the member is
    /// unknown or disabled; a CSR is malformed, not P-256, or names someone else; the request is
    /// not signed by the key in the authentication CSR; one with the same authentication key is
    /// already pending for that node; or too many are pending. Anyone may call this, so a
    /// refusal writes nothing (the caller counts and logs it): everything a stranger sends is
    /// checked before anything is written, and only an accepted request is kept and audited.
    /// Requests for the same node with other keys may wait side by side: a squatter's does not
    /// block the genuine one, which the administrator picks by its key's fingerprint.
    /// </summary>
    public RegistrationStatus SubmitRegistration(SignedRegistrationRequest signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var (request, member, node, auth, signing) = CheckRegistration(signed);
        var fingerprint = KeyFingerprint.Of(auth.PublicKey.ExportSubjectPublicKeyInfo());
        using (var connection = _database.OpenConnection())
        {
            // Outside the writer lock: a flood for members that do not exist must not queue administrators' changes behind it.
            RequireMember(connection, null, member);
        }

        var id = Guid.NewGuid().ToString("N");
        Change($"node:{node}", "registration.submit", new { }, (c, t) =>
        {
            if (!RequireMember(c, t, member))
            {
                throw RegistryException.Precondition(RegistryErrors.MemberDisabled, $"Member '{member}' is disabled.");
            }

            EnsureAddressFree(c, t, member.MemberClass, member.MemberCode, node.NodeCode, request.Address);
            var cutoff = PendingCutoff();
            if (PendingFor(c, t, member.MemberClass, member.MemberCode, node.NodeCode, cutoff).Any(p => p.Fingerprint == fingerprint))
            {
                throw RegistryException.Exists(RegistryErrors.RegistrationPending, $"A registration for '{node}' with this authentication key is already pending.");
            }

            var pending = ScalarInt64(c, t, "SELECT COUNT(*) FROM registrations WHERE state = @a AND submitted_at > @b", (int)RegistrationState.Pending, cutoff);
            if (pending >= RegistrationLimits.MaxPending)
            {
                throw new RegistryException(global::Grpc.Core.StatusCode.ResourceExhausted, RegistryErrors.TooManyPendingRegistrations,
                    "Too many registrations are waiting for a decision; try again later.");
            }

            Execute(c, t, """
                INSERT INTO registrations (id, class, member_code, node_code, address, auth_csr, signing_csr, state, reason, submitted_at)
                VALUES (@a, @b, @c, @d, @e, @f, @g, @h, '', @i)
                """,
                id, member.MemberClass, member.MemberCode, node.NodeCode, request.Address,
                request.AuthCsr.ToByteArray(), request.SigningCsr.ToByteArray(), (int)RegistrationState.Pending, Now());
            var replacesNode = IsListed(c, t, member.MemberClass, member.MemberCode, node.NodeCode) ? node.ToString() : null;
            return (null, new { registrationId = id, node = node.ToString(), address = request.Address, authKeySha256 = fingerprint, signingKeySha256 = KeyHash(signing.PublicKey), replacesNode });
        }, publish: false, recordRefusal: false);

        bool autoApprove;
        using (var connection = _database.OpenConnection())
        {
            autoApprove = GetSetting(connection, null, SettingAutoApprove) == "true";
        }

        return autoApprove ? Decide("registry:auto-approve", id, approve: true, "auto-approved", fingerprint) : GetRegistration(id)!;
    }

    /// <summary>Every check that needs no database, in the order docs/registry.md gives; throws the refusal.</summary>
    private (RegistrationRequest Request, MemberId Member, NodeId Node, ParsedCsr Auth, ParsedCsr Signing) CheckRegistration(SignedRegistrationRequest signed)
    {
        RegistrationRequest? request = null;
        if (signed.Request.Length <= MaxRegistrationBytes && signed.Signature.Length <= MaxRegistrationSignatureBytes)
        {
            try
            {
                request = RegistrationRequest.Parser.ParseFrom(signed.Request);
            }
            catch (InvalidProtocolBufferException)
            {
                // Answered below.
            }
        }

        if (request is null)
        {
            throw RegistryException.Invalid(RegistryErrors.InvalidArgument,
                $"The registration request is not a valid RegistrationRequest of at most {MaxRegistrationBytes} bytes.");
        }

        var member = ParseInstanceLocal(request.Member, MemberId.Parse);
        var node = ParseInstanceLocal($"{request.Member}/{request.NodeCode}", NodeId.Parse);
        ParseAddress(request.Address);
        var auth = ParseCsr(request.AuthCsr, "authentication");
        var signing = ParseCsr(request.SigningCsr, "signing");
        using (var key = auth.PublicKey.GetECDsaPublicKey()!)
        {
            if (!key.VerifyData(signed.Request.Span, signed.Signature.Span, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
            {
                throw new RegistryException(global::Grpc.Core.StatusCode.PermissionDenied, RegistryErrors.BadRegistrationSignature,
                    "The request is not signed by the key of its authentication CSR.");
            }
        }

        var authName = CertificateNames.ReadNodeAuthentication(auth.Subject);
        if (authName is null || authName != new MemberSubject(Instance, member.MemberClass, member.MemberCode, node.NodeCode))
        {
            throw RegistryException.Invalid(RegistryErrors.CsrSubjectMismatch,
                $"The authentication CSR must name {CertificateNames.NodeAuthentication(Instance, member.MemberClass, member.MemberCode, node.NodeCode).Name}; it names {auth.Subject.Name}.");
        }

        var signingName = CertificateNames.ReadMemberSigning(signing.Subject);
        if (signingName is null || signingName != new MemberSubject(Instance, member.MemberClass, member.MemberCode, null))
        {
            throw RegistryException.Invalid(RegistryErrors.CsrSubjectMismatch,
                $"The signing CSR must name {CertificateNames.MemberSigning(Instance, member.MemberClass, member.MemberCode).Name}; it names {signing.Subject.Name}.");
        }

        return (request, member, node, auth, signing);
    }

    /// <summary>
    /// Marks registrations left undecided past <see cref="RegistrationLimits.PendingMaxAge"/> expired
    /// and drops their CSRs, in one audited change; run on the registry's refresh tick. A pending
    /// registration past its age already counts as expired everywhere before this runs.
    /// </summary>
    /// <returns>How many expired.</returns>
    public int ExpireRegistrations()
    {
        using (var connection = _database.OpenConnection())
        {
            if (!Exists(connection, null, "SELECT 1 FROM registrations WHERE state = @a AND submitted_at <= @b LIMIT 1", (int)RegistrationState.Pending, PendingCutoff()))
            {
                return 0;
            }
        }

        var expired = 0;
        Change("registry", "registration.expire", new { }, (c, t) =>
        {
            var cutoff = PendingCutoff();
            var ids = new List<string>();
            using (var command = Command(c, t, "SELECT id FROM registrations WHERE state = @a AND submitted_at <= @b ORDER BY submitted_at", (int)RegistrationState.Pending, cutoff))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    ids.Add(reader.GetString(0));
                }
            }

            Execute(c, t, """
                UPDATE registrations SET state = @c, reason = 'not decided in time', decided_at = @d, auth_csr = @e, signing_csr = @e
                WHERE state = @a AND submitted_at <= @b
                """, (int)RegistrationState.Pending, cutoff, (int)RegistrationState.Expired, Now(), Array.Empty<byte>());
            expired = ids.Count;
            return (null, new { registrations = ids, maxAgeSeconds = (long)RegistrationLimits.PendingMaxAge.TotalSeconds });
        }, publish: false);
        return expired;
    }

    /// <summary>
    /// Approves (issuing both certificates and listing the node) or refuses a pending registration.
    /// <paramref name="fingerprint"/>, when given, must be the authentication key's (what the
    /// member's officer confirmed out of band); it is required to approve while other requests for
    /// the same node are pending, and those are refused once one is approved. Approving a node
    /// already listed replaces it: the certificates of its earlier registrations are revoked as
    /// superseded in the same change.
    /// </summary>
    public RegistrationStatus Decide(string actor, string registrationId, bool approve, string reason, string fingerprint = "")
    {
        string? replacesNode = null;
        var revoked = new List<string>();
        Change(actor, approve ? "registration.approve" : "registration.refuse", new { registrationId, reason, authKeySha256 = fingerprint }, (c, t) =>
        {
            using var command = Command(c, t,
                "SELECT class, member_code, node_code, address, auth_csr, signing_csr, state, submitted_at FROM registrations WHERE id = @a", registrationId);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                throw RegistryException.NotFound(RegistryErrors.UnknownRegistration, $"No registration '{registrationId}'.");
            }

            var (memberClass, memberCode, nodeCode, address) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3));
            var (authCsr, signingCsr) = ((byte[])reader[4], (byte[])reader[5]);
            var state = EffectiveState((RegistrationState)reader.GetInt32(6), reader.GetInt64(7));
            reader.Close();
            if (state == RegistrationState.Expired)
            {
                throw RegistryException.Precondition(RegistryErrors.RegistrationExpired,
                    $"Registration '{registrationId}' was not decided in time and has expired; the node must register again.");
            }

            if (state != RegistrationState.Pending)
            {
                throw RegistryException.Precondition(RegistryErrors.RegistrationNotPending, $"Registration '{registrationId}' is {state}, not pending.");
            }

            var node = $"{Instance}/{memberClass}/{memberCode}/{nodeCode}";
            if (!approve)
            {
                Execute(c, t, "UPDATE registrations SET state = @b, reason = @c, decided_at = @d WHERE id = @a",
                    registrationId, (int)RegistrationState.Refused, reason, Now());
                return (new { registrationId, node, state = "pending" }, new { registrationId, node, state = "refused", reason });
            }

            var keyFingerprint = Fingerprint(authCsr);
            var others = PendingFor(c, t, memberClass, memberCode, nodeCode, PendingCutoff()).Where(p => p.Id != registrationId).Select(p => p.Id).ToList();
            RequireFingerprint(fingerprint, keyFingerprint, node, others.Count);
            if (!RequireMember(c, t, MemberId.Create(Instance, memberClass, memberCode)))
            {
                throw RegistryException.Precondition(RegistryErrors.MemberDisabled, $"Member '{Instance}/{memberClass}/{memberCode}' is disabled.");
            }

            EnsureAddressFree(c, t, memberClass, memberCode, nodeCode, address);
            var superseded = IssuedTo(c, t, memberClass, memberCode, nodeCode);
            replacesNode = IsListed(c, t, memberClass, memberCode, nodeCode) ? node : null;
            var (host, _) = ParseAddress(address);
            using var authCertificate = Issue(c, t, ParseCsr(authCsr, "authentication"), CertificateProfile.NodeAuthentication, host);
            using var signingCertificate = Issue(c, t, ParseCsr(signingCsr, "signing"), CertificateProfile.MemberSigning, null);
            var authHash = SHA256.HashData(authCertificate.RawData);
            var version = (long)LatestConfigurationTimes(c, t).Version + 1;
            Execute(c, t, """
                INSERT INTO nodes (class, member_code, node_code, address, auth_cert_sha256, auth_cert_serial, registered_at)
                VALUES (@a, @b, @c, @d, @e, @f, @g)
                ON CONFLICT(class, member_code, node_code) DO UPDATE SET
                    address = excluded.address, auth_cert_sha256 = excluded.auth_cert_sha256, auth_cert_serial = excluded.auth_cert_serial
                """, memberClass, memberCode, nodeCode, address, authHash, authCertificate.SerialNumber, Now());
            Execute(c, t, """
                UPDATE registrations SET state = @b, reason = @c, decided_at = @d, auth_cert_serial = @e, signing_cert_serial = @f, config_version = @g
                WHERE id = @a
                """, registrationId, (int)RegistrationState.Approved, reason, Now(), authCertificate.SerialNumber, signingCertificate.SerialNumber, version);

            // The node's earlier keys are no longer its own: revoked through the same path as an administrator's revocation.
            foreach (var serial in superseded)
            {
                Revoke(c, t, serial, RevocationReasons.Parse("superseded"));
                revoked.Add(serial);
            }

            foreach (var other in others)
            {
                Execute(c, t, "UPDATE registrations SET state = @b, reason = @c, decided_at = @d WHERE id = @a",
                    other, (int)RegistrationState.Refused, $"superseded by registration {registrationId}", Now());
            }

            return (new { registrationId, node, state = "pending" },
                new
                {
                    registrationId, node, state = "approved", address, authKeySha256 = keyFingerprint,
                    authCertificateSerial = authCertificate.SerialNumber, signingCertificateSerial = signingCertificate.SerialNumber,
                    replacesNode, revokedAsSuperseded = revoked, refusedAsSuperseded = others,
                });
        });
        var status = GetRegistration(registrationId)!;
        status.ReplacesNode = replacesNode ?? string.Empty;
        status.RevokedCertificateSerials.Add(revoked);
        return status;
    }

    private static void RequireFingerprint(string given, string actual, string node, int othersPending)
    {
        if (string.IsNullOrWhiteSpace(given))
        {
            if (othersPending > 0)
            {
                throw RegistryException.Precondition(RegistryErrors.FingerprintRequired,
                    $"{othersPending + 1} registrations for '{node}' are pending: approve the one whose authentication key fingerprint the member confirmed (--fingerprint).");
            }

            return;
        }

        var normalised = KeyFingerprint.Normalise(given)
            ?? throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "A key fingerprint is 64 hexadecimal digits (colons and spaces allowed).");
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(normalised), System.Text.Encoding.ASCII.GetBytes(actual)))
        {
            throw RegistryException.Precondition(RegistryErrors.FingerprintMismatch,
                "This registration's authentication key is not the one the fingerprint names: it is not the request the member confirmed.");
        }
    }

    /// <summary>Registrations submitted after this instant (ms) and not decided are pending; before it, expired.</summary>
    private long PendingCutoff() => Now() - (long)RegistrationLimits.PendingMaxAge.TotalMilliseconds;

    private RegistrationState EffectiveState(RegistrationState stored, long submittedAt) =>
        stored == RegistrationState.Pending && submittedAt <= PendingCutoff() ? RegistrationState.Expired : stored;

    private static List<(string Id, string Fingerprint)> PendingFor(DbConnection c, DbTransaction t, string memberClass, string memberCode, string nodeCode, long cutoff)
    {
        using var command = Command(c, t, """
            SELECT id, auth_csr FROM registrations
            WHERE class = @a AND member_code = @b AND node_code = @c AND state = @d AND submitted_at > @e
            """, memberClass, memberCode, nodeCode, (int)RegistrationState.Pending, cutoff);
        using var reader = command.ExecuteReader();
        var list = new List<(string, string)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), Fingerprint((byte[])reader[1])));
        }

        return list;
    }

    /// <summary>The not yet revoked certificates issued with the node's approved registrations.</summary>
    private static List<string> IssuedTo(DbConnection c, DbTransaction t, string memberClass, string memberCode, string nodeCode)
    {
        var serials = new List<string>();
        using (var command = Command(c, t, """
            SELECT auth_cert_serial, signing_cert_serial FROM registrations
            WHERE class = @a AND member_code = @b AND node_code = @c AND state = @d
            """, memberClass, memberCode, nodeCode, (int)RegistrationState.Approved))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                serials.Add(NormaliseSerial(reader.GetString(0)));
                serials.Add(NormaliseSerial(reader.GetString(1)));
            }
        }

        return [.. serials.Where(serial => Exists(c, t, "SELECT 1 FROM certificates WHERE serial = @a AND revoked_at IS NULL", serial))];
    }

    private static bool IsListed(DbConnection c, DbTransaction? t, string memberClass, string memberCode, string nodeCode) =>
        Exists(c, t, "SELECT 1 FROM nodes WHERE class = @a AND member_code = @b AND node_code = @c", memberClass, memberCode, nodeCode);

    /// <summary>The fingerprint of a stored authentication CSR (validated when it was taken); empty once dropped.</summary>
    private static string Fingerprint(byte[] authCsr) =>
        authCsr.Length > 0 && CertificateSigningRequests.Parse(authCsr).Csr is { } csr ? KeyFingerprint.Of(csr.PublicKey.ExportSubjectPublicKeyInfo()) : string.Empty;

    public RegistrationStatus? GetRegistration(string registrationId)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, """
            SELECT r.state, r.reason, r.config_version, a.der, s.der, r.submitted_at FROM registrations r
            LEFT JOIN certificates a ON a.serial = r.auth_cert_serial
            LEFT JOIN certificates s ON s.serial = r.signing_cert_serial
            WHERE r.id = @a
            """, registrationId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new RegistrationStatus
        {
            RegistrationId = registrationId,
            State = EffectiveState((RegistrationState)reader.GetInt32(0), reader.GetInt64(5)),
            Reason = reader.GetString(1),
            ConfigurationVersion = (ulong)reader.GetInt64(2),
            AuthCertificate = reader.IsDBNull(3) ? ByteString.Empty : ByteString.CopyFrom((byte[])reader[3]),
            SigningCertificate = reader.IsDBNull(4) ? ByteString.Empty : ByteString.CopyFrom((byte[])reader[4]),
        };
    }

    private X509Certificate2 Issue(DbConnection c, DbTransaction t, ParsedCsr csr, CertificateProfile profile, string? host)
    {
        var request = CertificateIssueRequest.FromCsr(csr, profile);
        if (host is not null)
        {
            request = IPAddress.TryParse(host, out var ip)
                ? request with { IpAddresses = [ip] }
                : request with { DnsNames = [host] };
        }

        return Issue(c, t, request);
    }

    /// <summary>Issues and records the certificate in the same transaction, so OCSP answers for it once the change commits.</summary>
    private X509Certificate2 Issue(DbConnection c, DbTransaction t, CertificateIssueRequest request)
    {
        var certificate = _keys.Authority.Issue(request);
        InsertCertificate(c, t, certificate, request.Profile, Now());
        return certificate;
    }

    private static ParsedCsr ParseCsr(ByteString der, string which) => ParseCsr(der.ToByteArray(), which);

    private static ParsedCsr ParseCsr(byte[] der, string which)
    {
        var result = CertificateSigningRequests.Parse(der);
        if (result.Csr is { } csr)
        {
            return csr;
        }

        var error = result.Error!;
        var code = error.Code.StartsWith("Key.", StringComparison.Ordinal) ? RegistryErrors.WrongKeyType : RegistryErrors.InvalidCsr;
        throw RegistryException.Invalid(code, $"The {which} CSR is refused ({error.Code}): {error.Message}");
    }

    /// <summary>"host:port" with a DNS name or an IP address (IPv6 in brackets).</summary>
    internal static (string Host, int Port) ParseAddress(string address)
    {
        if (address.Length is > 0 and <= 260
            && Uri.TryCreate("https://" + address, UriKind.Absolute, out var uri)
            && uri.Port is > 0 and < 65536
            && string.IsNullOrEmpty(uri.UserInfo)
            && uri.AbsolutePath == "/" && uri.Query.Length == 0
            && address.EndsWith(":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            && uri.HostNameType is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return (uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host, uri.Port);
        }

        throw RegistryException.Invalid(RegistryErrors.InvalidArgument, "The node address must be host:port.");
    }

    private static string KeyHash(PublicKey key) => Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    // ---- queries --------------------------------------------------------------------------------

    /// <summary>
    /// Registrations in the given states (all if none), oldest first, each with its
    /// authentication key's fingerprint, and for a pending one when it expires and which listed
    /// node approving it would replace.
    /// </summary>
    public IReadOnlyList<RegistrationInfo> ListRegistrations(IReadOnlyCollection<RegistrationState> states)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, RegistrationColumns + " ORDER BY submitted_at, id");
        var list = ReadAll(command, ReadRegistration).Where(info => states.Count == 0 || states.Contains(info.State)).ToList();
        AddReplacedNodes(connection, list);
        return list;
    }

    /// <summary>One registration as <see cref="ListRegistrations"/> shows it, with its two CSRs (empty once dropped); null if unknown.</summary>
    public RegistrationRequestDetail? FindRegistration(string registrationId)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, RegistrationColumns + " WHERE id = @a", registrationId);
        var found = ReadAll(command, r => new RegistrationRequestDetail(ReadRegistration(r), (byte[])r[8], (byte[])r[9])).SingleOrDefault();
        if (found is not null)
        {
            AddReplacedNodes(connection, [found.Info]);
        }

        return found;
    }

    private const string RegistrationColumns =
        "SELECT id, class, member_code, node_code, address, state, submitted_at, reason, auth_csr, signing_csr FROM registrations";

    private RegistrationInfo ReadRegistration(DbDataReader reader)
    {
        var submittedAt = reader.GetInt64(6);
        var state = EffectiveState((RegistrationState)reader.GetInt32(5), submittedAt);
        var info = new RegistrationInfo
        {
            RegistrationId = reader.GetString(0),
            Member = $"{Instance}/{reader.GetString(1)}/{reader.GetString(2)}",
            NodeCode = reader.GetString(3),
            Address = reader.GetString(4),
            State = state,
            SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(submittedAt)),
            Reason = reader.GetString(7),
            AuthKeySha256 = Fingerprint((byte[])reader[8]),
        };
        if (state == RegistrationState.Pending)
        {
            info.ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(submittedAt) + RegistrationLimits.PendingMaxAge);
        }

        return info;
    }

    /// <summary>
    /// Which listed node approving each pending registration would replace. Asked after the rows
    /// are read: a PostgreSQL connection runs one command at a time, where SQLite let a reader stay open.
    /// </summary>
    private void AddReplacedNodes(DbConnection connection, IEnumerable<RegistrationInfo> registrations)
    {
        foreach (var info in registrations.Where(r => r.State == RegistrationState.Pending))
        {
            var member = MemberId.Parse(info.Member);
            info.ReplacesNode = IsListed(connection, null, member.MemberClass, member.MemberCode, info.NodeCode) ? $"{info.Member}/{info.NodeCode}" : string.Empty;
        }
    }

    public IReadOnlyList<MemberInfo> ListMembers()
    {
        using var connection = _database.OpenConnection();
        var members = new Dictionary<(string, string), MemberInfo>();
        var list = new List<MemberInfo>();
        using (var command = Command(connection, null, "SELECT class, code, name, enabled FROM members ORDER BY class, code"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var info = new MemberInfo
                {
                    Member = $"{Instance}/{reader.GetString(0)}/{reader.GetString(1)}",
                    Name = reader.GetString(2),
                    Enabled = reader.GetInt64(3) != 0,
                };
                members[(reader.GetString(0), reader.GetString(1))] = info;
                list.Add(info);
            }
        }

        using (var command = Command(connection, null, "SELECT class, member_code, code, enabled FROM subsystems ORDER BY class, member_code, code"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                members[(reader.GetString(0), reader.GetString(1))].Subsystems.Add(new SubsystemInfo
                {
                    Subsystem = $"{Instance}/{reader.GetString(0)}/{reader.GetString(1)}/{reader.GetString(2)}",
                    Enabled = reader.GetInt64(3) != 0,
                });
            }
        }

        return list;
    }

    public IReadOnlyList<NodeInfo> ListNodes()
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, "SELECT class, member_code, node_code, address, auth_cert_sha256 FROM nodes ORDER BY class, member_code, node_code");
        using var reader = command.ExecuteReader();
        var list = new List<NodeInfo>();
        while (reader.Read())
        {
            list.Add(new NodeInfo
            {
                Node = $"{Instance}/{reader.GetString(0)}/{reader.GetString(1)}/{reader.GetString(2)}",
                Address = reader.GetString(3),
                AuthCertificateSha256 = ByteString.CopyFrom((byte[])reader[4]),
            });
        }

        return list;
    }

    public IReadOnlyList<CertificateInfo> ListCertificates()
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, $"SELECT {CertificateColumns} FROM certificates ORDER BY issued_at, serial");
        return ReadAll(command, r => ReadCertificate(r).Info);
    }

    /// <summary>What OCSP answers: null = never issued here; otherwise good, or revoked at a time for a reason.</summary>
    public (bool Revoked, DateTimeOffset RevokedAt, int Reason)? FindCertificateStatus(string serialNumber)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, "SELECT revoked_at, revocation_reason FROM certificates WHERE serial = @a", NormaliseSerial(serialNumber));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return reader.IsDBNull(0)
            ? (false, default, 0)
            : (true, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetInt32(1));
    }

    /// <summary>The OCSP responder's view of a serial number (<see cref="TrustServices.ICertificateStatusSource"/>).</summary>
    public TrustServices.CertificateStatusInfo? Find(string serialNumberHex) =>
        FindCertificateStatus(serialNumberHex) is not { } status ? null
        : status.Revoked ? TrustServices.CertificateStatusInfo.Revoked(status.RevokedAt, (Core.TrustServices.RevocationReason)status.Reason)
        : TrustServices.CertificateStatusInfo.Good;

    public IReadOnlyList<AdminAuditEntry> QueryAuditLog(long afterSequence, int limit, string? actor, string? action)
    {
        using var connection = _database.OpenConnection();
        return AdminAuditLog.Query(connection, afterSequence, limit, actor, action);
    }

    public AuditVerification VerifyAuditLog()
    {
        using var connection = _database.OpenConnection();
        return AdminAuditLog.Verify(connection);
    }
}
