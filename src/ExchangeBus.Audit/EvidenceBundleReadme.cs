// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Audit;

/// <summary>
/// The README.md and check.sh of a bundle. Both are made from one list of openssl checks, so
/// the commands the README shows are exactly the ones the script runs (and the tests run the
/// script with the real openssl).
/// </summary>
internal static class EvidenceBundleReadme
{
    private sealed record Check(string What, string Command);

    public static string Readme(EvidenceBundleSummary bundle)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            # Evidence bundle: message {bundle.MessageId}

            The records node `{bundle.Node}` holds of message `{bundle.MessageId}`, with what proves
            them to anyone, offline: the sender's signature and certificate, the OCSP response that
            travelled with the message, an inclusion proof into a tree head the node signed, and the
            RFC 3161 time-stamp of that head. Check it with `xbus audit verify-bundle bundle.zip
            --trust-root root.pem` (every check below and the two that openssl cannot do), or with
            openssl alone: unzip, then `sh check.sh`, or run the commands below one by one.

            **First, the root.** Everything is checked against `root.pem`, which came in the same zip:
            compare its fingerprint (`openssl x509 -in root.pem -noout -fingerprint -sha256`) with the
            bus root you trust (the configuration anchor or your registry publishes it) before
            believing anything else here.

            ## Layout

            | File | What it is |
            |---|---|
            | `manifest.json` | `format`, `message_id`, `node`, and `sha256`: the SHA-256 (hex) of every other file |
            | `root.pem` | the bus's root CA certificate(s): every certificate below chains to it |
            | `check.sh` | the openssl checks below as a POSIX sh script |
            | `records/SEQ/record.json` | every field of the record with sequence number SEQ (below) |
            | `records/SEQ/header.bin` | the signed header, bytes exactly as sent (protobuf `MessageHeader`) |
            | `records/SEQ/body.bin` | the body, exactly as sent; absent when the service logs body hashes only |
            | `records/SEQ/tbs.bin` | the 64 signed bytes: SHA-256(header.bin) ‖ SHA-256(body) |
            | `records/SEQ/signature.der` | ECDSA P-256 SHA-256 signature over tbs.bin, DER; absent for unsigned records |
            | `records/SEQ/signer.pem` | the sending member's signing certificate |
            | `records/SEQ/ocsp.der` | the OCSP response (DER) that travelled with the message |
            | `records/SEQ/inclusion-proof.json` | `leaf_index` (SEQ − 1), `tree_size`, `head` (its folder), `hashes` (hex, nearest the leaf first) |
            | `heads/SIZE/head.bin` | the signed tree head: the protobuf `exchangebus.audit.v1.TreeHead` bytes (node, tree_size, root_hash, created_at) as the node serialized them |
            | `heads/SIZE/head.sig` | the node member's ECDSA P-256 SHA-256 signature over head.bin, DER |
            | `heads/SIZE/signer.pem` | the certificate of that signature (the member signing certificate) |
            | `heads/SIZE/head.tst` | the RFC 3161 time-stamp token (DER ContentInfo); its imprint is SHA-256(head.bin) |
            | `heads/SIZE/tsa.pem` | the TSA's certificate, copied from the token |

            `record.json` holds `sequence`, `at_unix_ms` (the node's clock, Unix milliseconds),
            `message_id`, `direction` (1 ClientRequest, 2 ClientResponse, 3 ProviderRequest,
            4 ProviderResponse), `client`, `service`, `user_id`, `subject_id` (null for none), `issue`,
            `status`, `body_logged`, `body_sha256`, `signer_certificate_sha256` (SHA-256 of the DER
            certificate, null for none), `correlation_id`, `prev_hash` and `hash`; hashes in lower-case hex.

            ## Checking with openssl

            Run from the unzipped folder. Each command prints `Verified OK`, `Verification: OK`, `OK`,
            or `good`, or exits 0 (`cmp`, `grep`), when the part it checks holds.

            """).Append('\n');
        foreach (var (title, checks) in Sections(bundle))
        {
            text.Append("### ").Append(title).Append("\n\n```sh\n");
            foreach (var check in checks)
            {
                text.Append("# ").Append(check.What).Append('\n').Append(check.Command).Append('\n');
            }

            text.Append("```\n\n");
        }

        text.Append("""
            To read the parts: `openssl ocsp -respin records/SEQ/ocsp.der -resp_text -noverify`,
            `openssl ts -reply -in heads/SIZE/head.tst -token_in -text` (the time, `Time stamp:`),
            `openssl x509 -in records/SEQ/signer.pem -noout -text`.

            ## What openssl cannot check: the record hash and the inclusion proof

            **The record hash** (`hash` in record.json) is SHA-256 of `prev_hash` (32 bytes) followed
            by this encoding, where an integer is 8 bytes big-endian, a text is its UTF-8 length as
            4 bytes big-endian then its UTF-8 bytes, a blob is its length as 4 bytes big-endian then its
            bytes, and a null text or blob is the 4 bytes `ff ff ff ff`:
            the byte `01` (format version), sequence, at_unix_ms, message_id (text), direction
            (integer), client, service, user_id, subject_id, issue, status (texts), header.bin (blob),
            one byte `01` if body_logged else `00`, body_sha256 (blob, 32 bytes), signature.der (blob;
            empty for an unsigned record), signer_certificate_sha256 (blob), correlation_id (text).
            The body enters through body_sha256, so check also that body.bin hashes to it (above).
            The node's docs/design/message-log.md has the same rule with a test vector.

            **The inclusion proof** (RFC 9162 §2.1.3.2): start with `r = SHA-256(00 ‖ hash)`, and
            `fn = leaf_index`, `sn = tree_size − 1`. For each proof hash `p` in order: if `sn = 0`
            the proof is too long; if `fn` is odd or `fn = sn`, set `r = SHA-256(01 ‖ p ‖ r)` and then,
            while `fn` is even and not 0, halve `fn` and `sn`; otherwise set `r = SHA-256(01 ‖ r ‖ p)`.
            Then halve `fn` and `sn`. At the end `sn` must be 0 and `r` must equal `root_hash` in
            head.bin (field 3 of the TreeHead, 32 bytes), and `tree_size` must equal head.bin's field 2.
            `xbus audit verify-bundle` does both, and everything above.

            """);
        return text.ToString();
    }

    public static string CheckScript(EvidenceBundleSummary bundle)
    {
        var script = new StringBuilder();
        script.Append("""
            #!/bin/sh
            # Checks this evidence bundle with openssl alone: run it in the unzipped folder. The record hash and inclusion proof need xbus (see README.md).
            # Exits 0 only if every check passed.
            cd "$(dirname "$0")" || exit 2
            log=$(mktemp) || exit 2
            trap 'rm -f "$log"' EXIT
            failed=0
            run() {
              if sh -c "$2" >"$log" 2>&1; then echo "ok      $1"; else echo "FAILED  $1"; sed 's/^/        /' "$log"; failed=1; fi
            }

            """);
        foreach (var check in Sections(bundle).SelectMany(s => s.Checks))
        {
            // Single-quoted for sh: no command or description contains a single quote.
            script.Append("run '").Append(check.What).Append("' '").Append(check.Command).Append("'\n");
        }

        script.Append("exit $failed\n");
        return script.ToString();
    }

    private static IEnumerable<(string Title, Check[] Checks)> Sections(EvidenceBundleSummary bundle)
    {
        foreach (var record in bundle.Records)
        {
            var d = EvidenceBundle.RecordFolder(record.Sequence);
            var title = $"Record {record.Sequence} ({(MessageDirection)record.Direction}, {record.Status})";
            if (record.Signature.IsEmpty)
            {
                yield return (title + ": not signed", [
                    new Check("the header is the one logged (its hash is in the record hash)", $"test -f {d}header.bin"),
                ]);
                continue;
            }

            var tbs = record.BodyLogged
                ? new Check("tbs.bin is SHA-256(header.bin) then SHA-256(body.bin)",
                    $"(openssl dgst -sha256 -binary {d}header.bin; openssl dgst -sha256 -binary {d}body.bin) | cmp - {d}tbs.bin")
                : new Check("tbs.bin starts with SHA-256(header.bin) (the body is not logged; its hash is body_sha256)",
                    $"openssl dgst -sha256 -binary {d}header.bin | cmp -n 32 - {d}tbs.bin");
            List<Check> checks =
            [
                new("the signer certificate chains to the root", $"openssl verify -CAfile root.pem {d}signer.pem"),
                new("its public key, for the next command", $"openssl x509 -in {d}signer.pem -pubkey -noout -out {d}signer.pub.pem"),
                new("the signature over tbs.bin", $"openssl dgst -sha256 -verify {d}signer.pub.pem -signature {d}signature.der {d}tbs.bin"),
                tbs,
            ];
            if (record.BodyLogged)
            {
                checks.Add(new("body.bin hashes to body_sha256 of record.json",
                    $"grep -q \"\\\"body_sha256\\\": \\\"$(openssl dgst -sha256 -r {d}body.bin | cut -c1-64)\\\"\" {d}record.json"));
            }

            checks.Add(new("the OCSP response: signed by a responder of the root, about signer.pem, good",
                $"openssl ocsp -respin {d}ocsp.der -CAfile root.pem -issuer root.pem -sha256 -cert {d}signer.pem -no_nonce | grep -q \": good\""));
            yield return (title, [.. checks]);
        }

        foreach (var size in bundle.HeadSizes)
        {
            var d = EvidenceBundle.HeadFolder(size);
            yield return ($"Tree head of size {size}", [
                new("the head signer certificate chains to the root", $"openssl verify -CAfile root.pem {d}signer.pem"),
                new("its public key, for the next command", $"openssl x509 -in {d}signer.pem -pubkey -noout -out {d}signer.pub.pem"),
                new("the signature of the node member over head.bin", $"openssl dgst -sha256 -verify {d}signer.pub.pem -signature {d}head.sig {d}head.bin"),
                new("the RFC 3161 token over head.bin, by a TSA of the root",
                    $"openssl ts -verify -data {d}head.bin -in {d}head.tst -token_in -CAfile root.pem -untrusted {d}tsa.pem"),
            ]);
        }
    }
}
