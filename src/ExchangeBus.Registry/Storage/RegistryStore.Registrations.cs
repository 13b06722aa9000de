// SPDX-License-Identifier: Apache-2.0
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ExchangeBus.Contracts.Registry.V1;
using ExchangeBus.Core.Errors;
using ExchangeBus.Core.Identifiers;
using ExchangeBus.Core.Pki;
using ExchangeBus.Registry.Audit;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using static ExchangeBus.Core.Storage.Sql;

namespace ExchangeBus.Registry.Storage;

public sealed partial class RegistryStore
{
    /// <summary>A registration is a few KiB of CSRs; anything much larger is not one.</summary>
    public const int MaxRegistrationBytes = 256 * 1024;

    /// <summary>
    /// Takes a node's request to join. Refused when: the bytes do not parse; the member is
    /// unknown or disabled; a CSR is malformed, not P-256, or names someone else; the request is
    /// not signed by the key in the authentication CSR; or one is already pending for that node.
    /// </summary>
    public RegistrationStatus SubmitRegistration(SignedRegistrationRequest signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        RegistrationRequest? request = null;
        if (signed.Request.Length <= MaxRegistrationBytes)
        {
            try
            {
                request = RegistrationRequest.Parser.ParseFrom(signed.Request);
            }
            catch (InvalidProtocolBufferException)
            {
                // Answered below, with the refusal recorded like any other.
            }
        }

        if (request is null)
        {
            throw Refuse("node:(unparsed)", "registration.submit", new { bytes = signed.Request.Length },
                RegistryException.Invalid(RegistryErrors.InvalidArgument, "The registration request is not a valid RegistrationRequest."));
        }

        var actor = $"node:{request.Member}/{request.NodeCode}";
        var describe = new { member = request.Member, nodeCode = request.NodeCode, address = request.Address };
        var id = Guid.NewGuid().ToString("N");
        Change(actor, "registration.submit", describe, (c, t) =>
        {
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

            if (!RequireMember(c, t, member))
            {
                throw RegistryException.Precondition(RegistryErrors.MemberDisabled, $"Member '{member}' is disabled.");
            }

            EnsureAddressFree(c, t, member.MemberClass, member.MemberCode, node.NodeCode, request.Address);
            if (Exists(c, t, "SELECT 1 FROM registrations WHERE class = $a AND member_code = $b AND node_code = $c AND state = $d",
                member.MemberClass, member.MemberCode, node.NodeCode, (int)RegistrationState.Pending))
            {
                throw RegistryException.Exists(RegistryErrors.RegistrationPending, $"A registration for '{node}' is already pending.");
            }

            Execute(c, t, """
                INSERT INTO registrations (id, class, member_code, node_code, address, auth_csr, signing_csr, state, reason, submitted_at)
                VALUES ($a, $b, $c, $d, $e, $f, $g, $h, '', $i)
                """,
                id, member.MemberClass, member.MemberCode, node.NodeCode, request.Address,
                request.AuthCsr.ToByteArray(), request.SigningCsr.ToByteArray(), (int)RegistrationState.Pending, Now());
            return (null, new { registrationId = id, node = node.ToString(), address = request.Address, authKeySha256 = KeyHash(auth.PublicKey), signingKeySha256 = KeyHash(signing.PublicKey) });
        }, publish: false);

        bool autoApprove;
        using (var connection = _database.OpenConnection())
        {
            autoApprove = GetSetting(connection, null, SettingAutoApprove) == "true";
        }

        return autoApprove ? Decide("registry:auto-approve", id, approve: true, "auto-approved") : GetRegistration(id)!;
    }

    /// <summary>Approves (issuing both certificates and listing the node) or refuses a pending registration.</summary>
    public RegistrationStatus Decide(string actor, string registrationId, bool approve, string reason)
    {
        Change(actor, approve ? "registration.approve" : "registration.refuse", new { registrationId, reason }, (c, t) =>
        {
            using var command = Command(c, t,
                "SELECT class, member_code, node_code, address, auth_csr, signing_csr, state FROM registrations WHERE id = $a", registrationId);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                throw RegistryException.NotFound(RegistryErrors.UnknownRegistration, $"No registration '{registrationId}'.");
            }

            var (memberClass, memberCode, nodeCode, address) = (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3));
            var (authCsr, signingCsr, state) = ((byte[])reader[4], (byte[])reader[5], (RegistrationState)reader.GetInt32(6));
            reader.Close();
            if (state != RegistrationState.Pending)
            {
                throw RegistryException.Precondition(RegistryErrors.RegistrationNotPending, $"Registration '{registrationId}' is {state}, not pending.");
            }

            var node = $"{Instance}/{memberClass}/{memberCode}/{nodeCode}";
            if (!approve)
            {
                Execute(c, t, "UPDATE registrations SET state = $b, reason = $c, decided_at = $d WHERE id = $a",
                    registrationId, (int)RegistrationState.Refused, reason, Now());
                return (new { registrationId, node, state = "pending" }, new { registrationId, node, state = "refused", reason });
            }

            if (!RequireMember(c, t, MemberId.Create(Instance, memberClass, memberCode)))
            {
                throw RegistryException.Precondition(RegistryErrors.MemberDisabled, $"Member '{Instance}/{memberClass}/{memberCode}' is disabled.");
            }

            EnsureAddressFree(c, t, memberClass, memberCode, nodeCode, address);
            var (host, _) = ParseAddress(address);
            using var authCertificate = Issue(c, t, ParseCsr(authCsr, "authentication"), CertificateProfile.NodeAuthentication, host);
            using var signingCertificate = Issue(c, t, ParseCsr(signingCsr, "signing"), CertificateProfile.MemberSigning, null);
            var authHash = SHA256.HashData(authCertificate.RawData);
            var version = (long)LatestConfigurationTimes(c, t).Version + 1;
            Execute(c, t, """
                INSERT INTO nodes (class, member_code, node_code, address, auth_cert_sha256, auth_cert_serial, registered_at)
                VALUES ($a, $b, $c, $d, $e, $f, $g)
                ON CONFLICT(class, member_code, node_code) DO UPDATE SET
                    address = excluded.address, auth_cert_sha256 = excluded.auth_cert_sha256, auth_cert_serial = excluded.auth_cert_serial
                """, memberClass, memberCode, nodeCode, address, authHash, authCertificate.SerialNumber, Now());
            Execute(c, t, """
                UPDATE registrations SET state = $b, reason = $c, decided_at = $d, auth_cert_serial = $e, signing_cert_serial = $f, config_version = $g
                WHERE id = $a
                """, registrationId, (int)RegistrationState.Approved, reason, Now(), authCertificate.SerialNumber, signingCertificate.SerialNumber, version);
            return (new { registrationId, node, state = "pending" },
                new { registrationId, node, state = "approved", address, authCertificateSerial = authCertificate.SerialNumber, signingCertificateSerial = signingCertificate.SerialNumber });
        });
        return GetRegistration(registrationId)!;
    }

    public RegistrationStatus? GetRegistration(string registrationId)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, """
            SELECT r.state, r.reason, r.config_version, a.der, s.der FROM registrations r
            LEFT JOIN certificates a ON a.serial = r.auth_cert_serial
            LEFT JOIN certificates s ON s.serial = r.signing_cert_serial
            WHERE r.id = $a
            """, registrationId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new RegistrationStatus
        {
            RegistrationId = registrationId,
            State = (RegistrationState)reader.GetInt32(0),
            Reason = reader.GetString(1),
            ConfigurationVersion = (ulong)reader.GetInt64(2),
            AuthCertificate = reader.IsDBNull(3) ? ByteString.Empty : ByteString.CopyFrom((byte[])reader[3]),
            SigningCertificate = reader.IsDBNull(4) ? ByteString.Empty : ByteString.CopyFrom((byte[])reader[4]),
        };
    }

    private X509Certificate2 Issue(SqliteConnection c, SqliteTransaction t, ParsedCsr csr, CertificateProfile profile, string? host)
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
    private X509Certificate2 Issue(SqliteConnection c, SqliteTransaction t, CertificateIssueRequest request)
    {
        var profile = request.Profile;
        var certificate = _keys.Authority.Issue(request);
        Execute(c, t, """
            INSERT INTO certificates (serial, subject, profile, not_before, not_after, der, issued_at)
            VALUES ($a, $b, $c, $d, $e, $f, $g)
            """,
            NormaliseSerial(certificate.SerialNumber), certificate.Subject, profile.ToString(),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime()).ToUnixTimeMilliseconds(),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeMilliseconds(),
            certificate.RawData, Now());
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

    public IReadOnlyList<RegistrationInfo> ListRegistrations(IReadOnlyCollection<RegistrationState> states)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null,
            "SELECT id, class, member_code, node_code, address, state, submitted_at, reason FROM registrations ORDER BY submitted_at, id");
        using var reader = command.ExecuteReader();
        var list = new List<RegistrationInfo>();
        while (reader.Read())
        {
            var state = (RegistrationState)reader.GetInt32(5);
            if (states.Count > 0 && !states.Contains(state))
            {
                continue;
            }

            list.Add(new RegistrationInfo
            {
                RegistrationId = reader.GetString(0),
                Member = $"{Instance}/{reader.GetString(1)}/{reader.GetString(2)}",
                NodeCode = reader.GetString(3),
                Address = reader.GetString(4),
                State = state,
                SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))),
                Reason = reader.GetString(7),
            });
        }

        return list;
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
        using var command = Command(connection, null, "SELECT serial, subject, profile, not_after, revoked_at, revocation_reason FROM certificates ORDER BY issued_at, serial");
        using var reader = command.ExecuteReader();
        var list = new List<CertificateInfo>();
        while (reader.Read())
        {
            var info = new CertificateInfo
            {
                SerialNumber = reader.GetString(0),
                Subject = reader.GetString(1),
                Profile = reader.GetString(2),
                NotAfter = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))),
                Revoked = !reader.IsDBNull(4),
            };
            if (info.Revoked)
            {
                info.RevokedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));
                info.RevocationReason = RevocationReasons.Name(reader.GetInt32(5));
            }

            list.Add(info);
        }

        return list;
    }

    /// <summary>What OCSP answers: null = never issued here; otherwise good, or revoked at a time for a reason.</summary>
    public (bool Revoked, DateTimeOffset RevokedAt, int Reason)? FindCertificateStatus(string serialNumber)
    {
        using var connection = _database.OpenConnection();
        using var command = Command(connection, null, "SELECT revoked_at, revocation_reason FROM certificates WHERE serial = $a", NormaliseSerial(serialNumber));
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
