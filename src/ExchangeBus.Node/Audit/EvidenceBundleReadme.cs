// SPDX-License-Identifier: Apache-2.0
using System.Globalization;
using System.Text;
using ExchangeBus.Contracts.Audit.V1;
using ExchangeBus.Core.Signing;
using ExchangeBus.Node.MessageLog;

namespace ExchangeBus.Node.Audit;

/// <summary>
/// The README.md and check.sh of a bundle. Both are made from one list of steps (<see cref="Sections"/>),
/// so the commands the README shows are exactly the ones the script runs, and the tests run the
/// script with the real openssl. Every step judges the evidence at the time it fixes (the record's
/// time, the token's time), never at today's: a bundle checks the same years later, after its
/// certificates and OCSP responses have expired. The script trusts only the root its reader
/// passes; EvidenceBundleVerifier (ExchangeBus.Audit) judges the same things at the same times.
/// </summary>
internal static class EvidenceBundleReadme
{
    /// <summary>
    /// Large enough that openssl never judges an OCSP response's times against today (its
    /// "Status times invalid" warning, and "good" on a line of its own): the times are checked
    /// against the record's time by <c>ocsp_times</c> instead.
    /// </summary>
    private const string OcspValidityPeriod = "4000000000";

    /// <summary>
    /// One line of the checks: a check (ok or FAILED), or with <paramref name="Variable"/> a value
    /// later checks use (shown with its value, FAILED when empty). <paramref name="What"/> is the
    /// line's name in check.sh's output; <paramref name="Note"/> says in the README what it proves
    /// and what it does not. No text contains a single quote (the script single-quotes them).
    /// </summary>
    private sealed record Step(string What, string Command, string Note, string? Variable = null);

    /// <summary>A part of the bundle and its steps; <paramref name="Folder"/> prefixes its lines in check.sh's output.</summary>
    private sealed record Section(string Title, string? Folder, IReadOnlyList<Step> Steps);

    /// <summary>
    /// Shell functions the steps use, the same in check.sh and in the README (a reader running
    /// the commands one by one pastes these first). Times are converted with date (GNU, else
    /// BSD) so that every openssl line runs without python3; only check-record.py needs it.
    /// </summary>
    private const string Helpers = """
        # The SHA-256 fingerprints of the certificates of a PEM file, one a line.
        fingerprints() {
          awk '/-----BEGIN CERTIFICATE-----/ { c = "openssl x509 -noout -fingerprint -sha256" } c { print | c } /-----END CERTIFICATE-----/ { close(c); c = "" }' "$1"
        }
        # Seconds since 1970 of a time as openssl prints it ("Dec  7 03:05:40.227 2026 GMT"): GNU date, else BSD date.
        epoch() {
          [ -n "$1" ] || { echo "no time to read" >&2; return 1; }
          set -- "$(echo "$1" | sed 's/\.[0-9]*//')"
          date -u -d "$1" +%s 2>/dev/null || date -j -u -f '%b %d %T %Y %Z' "$1" +%s 2>/dev/null || { echo "date cannot read the time $1" >&2; return 1; }
        }
        # An OCSP response's times against the record's time $2 (seconds), as verify-bundle judges them:
        # thisUpdate at most 5 minutes after it (clocks differ) and at most 1 hour before it (fresh),
        # nextUpdate at most 5 minutes before it, producedAt at most 5 minutes after it.
        ocsp_times() {
          text=$(openssl ocsp -respin "$1" -resp_text -noverify) || return 1
          produced=$(echo "$text" | sed -n 's/^ *Produced At: //p')
          this=$(echo "$text" | sed -n 's/^ *This Update: //p')
          next=$(echo "$text" | sed -n 's/^ *Next Update: //p')
          echo "record time $2; producedAt $produced; thisUpdate $this; nextUpdate ${next:-none}"
          [ -n "$2" ] && p=$(epoch "$produced") && t=$(epoch "$this") || return 1
          [ "$t" -le $(($2 + 300)) ] || { echo "thisUpdate is more than 5 minutes after the record time"; return 1; }
          [ $(($2 - t)) -le 3600 ] || { echo "thisUpdate is more than 1 hour before the record time: the response was not fresh then"; return 1; }
          [ "$p" -le $(($2 + 300)) ] || { echo "producedAt is more than 5 minutes after the record time"; return 1; }
          [ -z "$next" ] || { n=$(epoch "$next") && [ "$2" -le $((n + 300)) ]; } || { echo "nextUpdate had passed at the record time"; return 1; }
        }
        """;

    public static string Readme(EvidenceBundleSummary bundle)
    {
        var text = new StringBuilder();
        text.Append(bundle.Window is { } window ? WindowReadme(bundle.Node, window) : string.Empty);
        text.Append(CultureInfo.InvariantCulture, $"""
            # Evidence bundle: {(bundle.Window is null ? "message " + bundle.MessageId : "a window of node " + bundle.Node)}

            The records node `{bundle.Node}` holds of {(bundle.Window is null ? $"message `{bundle.MessageId}`" : "the messages below")}, with what proves
            them to anyone, offline: the sender's signature and certificate, the OCSP response that
            travelled with the message, an inclusion proof into a tree head the node signed, and the
            RFC 3161 time-stamp of that head. Check it with `xbus audit verify-bundle bundle.zip
            --anchor anchor.json`, or with openssl and python3 alone: unzip, then
            `sh check.sh /path/to/anchor-root.pem`, or run the commands below one by one.

            ## First, the root you trust

            Nothing in this zip can say whom to trust: `root.pem` is only the root the exporter used,
            and evidence that names its own trust proves nothing. Take the bus root from your
            configuration anchor (`anchor.json`, which you got from the registry's operator and
            checked by its fingerprint), never from this bundle:

            ```sh
            python3 -c 'import json, sys; sys.stdout.write("".join(json.load(open(sys.argv[1]))["registryTlsTrustRoots"]))' anchor.json > anchor-root.pem
            openssl x509 -in anchor-root.pem -noout -fingerprint -sha256   # the root you trust
            openssl x509 -in root.pem -noout -fingerprint -sha256          # the bundle's: it should be the same
            sh check.sh anchor-root.pem
            ```

            `check.sh` trusts only the root it is given. Without one it prints the fingerprint of the
            bundle's `root.pem`, asks you to compare it with your anchor's and to pass the root you
            trust, and exits 2. It exits 0 when every check passed, 1 when one failed: each line says
            `ok` or `FAILED` and names the file and the part; a FAILED line is followed by what openssl
            (or the script) said. It writes nothing into this folder (its scratch folder is a
            `mktemp -d`, removed on exit), so the folder still matches `manifest.json` afterwards.

            ## Layout

            | File | What it is |
            |---|---|
            | `manifest.json` | `format`, `message_id`, `node`, and `sha256`: the SHA-256 (hex) of every other file |
            | `root.pem` | the root CA certificate(s) the exporter trusted: compare, never trust (above) |
            | `check.sh` | the checks below as a POSIX sh script: `sh check.sh ROOT.pem` |
            | `{EvidenceBundle.CheckRecordFile}` | the record hash, the inclusion proof and the stream chains, recomputed (python3, standard library only) |
            | `records/SEQ/record.json` | every field of the record with sequence number SEQ (below) |
            | `records/SEQ/header.bin` | the signed header, bytes exactly as sent (protobuf `MessageHeader`) |
            | `records/SEQ/body.bin` | the body, exactly as sent; absent when the service logs body hashes only |
            | `records/SEQ/tbs.bin` | the 64 signed bytes: SHA-256(header.bin) ‖ SHA-256(body) |
            | `records/SEQ/signature.der` | ECDSA P-256 SHA-256 signature over tbs.bin, DER; or, when its first byte is `b1`, the batch form: the signature of a hash-tree root over several messages' tbs and this one's path to it (docs/design/envelope-signature.md, "Batch form"); absent for unsigned records |
            | `records/SEQ/signer.pem` | the sending member's signing certificate |
            | `records/SEQ/ocsp.der` | the OCSP response (DER) that travelled with the message |
            | `records/SEQ/inclusion-proof.json` | `leaf_index` (SEQ − 1), `tree_size`, `head` (its folder), `hashes` (hex, nearest the leaf first) |
            | `heads/SIZE/head.bin` | the signed tree head: the protobuf `exchangebus.audit.v1.TreeHead` bytes (node, tree_size, root_hash, created_at) as the node serialized them |
            | `heads/SIZE/head.sig` | the node member's ECDSA P-256 SHA-256 signature over head.bin, DER |
            | `heads/SIZE/signer.pem` | the certificate of that signature (the member signing certificate) |
            | `heads/SIZE/head.tst` | the RFC 3161 time-stamp token (DER ContentInfo); its imprint is SHA-256(head.bin) |
            | `heads/SIZE/tsa.pem` | the TSA's certificate, copied from the token |
            | `heads/SIZE/renewal-K.tst` | only once the bundle was renewed (`xbus audit renew`): a time-stamp token (K = 1, 2, …) whose imprint is the hash of head.bin ‖ head.tst ‖ renewal-1.tst ‖ … ‖ renewal-(K−1).tst, the files' bytes concatenated |
            | `heads/SIZE/renewal-K.tsa.pem` | the certificate of the TSA that made renewal-K.tst, copied from the token |

            `record.json` holds `format`, `sequence`, `at_unix_ms` (the node's clock, Unix milliseconds),
            `message_id`, `direction` (1 ClientRequest, 2 ClientResponse, 3 ProviderRequest,
            4 ProviderResponse), `client`, `service`, `user_id`, `subject_id` (null for none), `issue`,
            `status`, `body_logged`, `body_sha256`, `signer_certificate_sha256` (SHA-256 of the DER
            certificate, null for none), `correlation_id`, `prev_hash` and `hash`; hashes in lower-case hex.

            ## The checks

            Every check is made at the time the evidence fixes, never today's: a record's certificate
            and OCSP response at the record's time (`at_unix_ms`), a head's certificate and token at
            the token's own time (`Time stamp:`), with openssl's `-attime`. So the bundle checks the
            same years from now, after every certificate in it has expired. Run from the unzipped
            folder; first set the root you trust and the helper functions:

            ```sh
            root=/path/to/anchor-root.pem   # the root you trust (above), never root.pem

            """).Append(Helpers).Append("\n```\n\n");

        // What a line proves is said once, at its first appearance (every record has the same lines).
        var explained = new HashSet<string>(StringComparer.Ordinal);
        foreach (var section in Sections(bundle))
        {
            text.Append("### ").Append(section.Title).Append("\n\n```sh\n");
            foreach (var step in section.Steps)
            {
                text.Append("# ").Append(step.What).Append('\n');
                text.Append(step.Variable is null ? step.Command : $"{step.Variable}=$({step.Command})").Append('\n');
            }

            text.Append("```\n\n");
            var notes = section.Steps.Where(step => explained.Add(step.What)).ToList();
            foreach (var step in notes)
            {
                text.Append("- *").Append(step.What).Append("*: ").Append(step.Note).Append('\n');
            }

            text.Append(notes.Count == 0 ? "What these lines prove, and what they do not, is said above.\n\n" : "\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"""
            To read the parts: `openssl ocsp -respin records/SEQ/ocsp.der -resp_text -noverify`,
            `openssl ts -reply -in heads/SIZE/head.tst -token_in -text` (the time, `Time stamp:`),
            `openssl x509 -in records/SEQ/signer.pem -noout -text`.

            ## What the checks do not prove

            - That the TSA's key was not compromised before the token's time: that is taken on trust,
              as with any RFC 3161 token, and so is the TSA's clock.
            - That the signer's certificate was not revoked after the OCSP response's thisUpdate: "good"
              at the record's time is what the sender's node saw, the response that travelled with the
              message. A revocation published later, even one dated earlier, is not in this bundle.
            - The record's own time (`at_unix_ms`) beyond the token: it is the node's clock; the token
              bounds it from above (the head covering the record was stamped at the token's time).
            - What the other node logged: export from both nodes for both sides of an exchange.
            - The certificates' key usages: `xbus audit verify-bundle` also checks that each has the
              profile of its use (a member signing certificate: digitalSignature and nonRepudiation, no
              extended key usage); openssl's `ts -verify` checks the TSA's (timeStamping, critical).

            ## How {EvidenceBundle.CheckRecordFile} computes the record hash, the inclusion proof and the stream chains

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
            head.bin (field 3 of the TreeHead, 32 bytes), and `tree_size` must equal head.bin's field 2
            (and the head's folder name). `leaf_index` must be the record's sequence − 1.

            **The stream chains** (docs/design/agency-protocols.md): a record of a streamed call has a
            header.bin whose field 20 (`streamed`) is true, field 21 its `stream_position` and field 22
            its `previous_hash`; field 1 is its kind (6 REQUEST_END, 7 RESPONSE_END close a chain).
            The records of one node's side (directions 1 and 2, or 3 and 4) form two chains, one per
            direction; in sequence order a chain's links must be at positions 0, 1, 2, … and each
            must name, as previous_hash, the link hash of the one before (empty for link 0):
            SHA-256(SHA-256(header.bin) ‖ body_sha256), the SHA-256 of its tbs.bin. A chain ends with
            its end record, nothing after it; the request chain may instead be closed by the response
            chain's RESPONSE_END (the provider ended the call first), and both by the call's outcome
            record (no header, a status other than `OK`) when it failed. A link whose position is
            ahead of the next is `MessageLog.StreamGap` if the missing one is not in the bundle,
            `MessageLog.StreamOutOfOrder` if it is (later); one behind is `MessageLog.StreamOutOfOrder`;
            a wrong previous_hash is `MessageLog.StreamBroken`; a chain without its end is
            `MessageLog.StreamGap` (truncated). A kind the rule does not name is chained like a message.

            """);
        return text.ToString();
    }

    /// <summary>What a window's bundle is, before the README every bundle has.</summary>
    private static string WindowReadme(string node, BundleWindow window) => string.Create(CultureInfo.InvariantCulture, $"""
        # A window of node {node}'s message log

        The records of the exchanges and file deliveries node `{node}` logged with
        {(window.Peer is null ? "any node" : $"node `{window.Peer}`")} that began at or after {window.From.UtcDateTime:O} and before
        {window.To.UtcDateTime:O} (UTC; the records a few minutes either side come along, so that an
        exchange that began inside is whole). It is made for reconciling with the other node's log
        (`manifest.json` states the window), so it carries **no bodies**: each body is known by its
        `body_sha256`, which the record hash and the signature cover. Every record below is checked
        as in any bundle; what this bundle cannot prove is that it holds every record of the window:
        a record left out shows as missing on this node when the other node reconciles against it.


        """);

    public static string CheckScript(EvidenceBundleSummary bundle)
    {
        var script = new StringBuilder();
        script.Append("""
            #!/bin/sh
            # Checks this evidence bundle with openssl (and python3 for the record hashes and inclusion
            # proofs), each part at the time the evidence fixes, against the root you trust:
            #   sh check.sh /path/to/anchor-root.pem
            # README.md says what each line proves and what it does not. Exits 0 if every check
            # passed, 1 if one failed, 2 if it could not run (no root given, say).
            if [ $# -ne 1 ]; then
              echo "check.sh: give the root you trust: sh check.sh /path/to/anchor-root.pem" >&2
              echo "The root that came with this bundle (root.pem) has the fingerprint(s):" >&2
              awk '/-----BEGIN CERTIFICATE-----/ { c = "openssl x509 -noout -fingerprint -sha256" } c { print | c } /-----END CERTIFICATE-----/ { close(c); c = "" }' "$(dirname "$0")/root.pem" >&2
              echo "Compare it with your configuration anchor's root and pass that root (README.md, First, the root you trust)." >&2
              echo "Evidence that names its own trust proves nothing: check.sh never trusts root.pem by itself." >&2
              exit 2
            fi
            case $1 in /*) root=$1 ;; *) root=$(pwd)/$1 ;; esac
            [ -r "$root" ] || { echo "check.sh: cannot read the root $1" >&2; exit 2; }
            cd "$(dirname "$0")" || exit 2
            # Scratch files never go into the bundle's folder, which must keep matching its manifest.
            scratch=$(mktemp -d) || exit 2
            trap 'rm -rf "$scratch"' EXIT
            trap 'exit 2' HUP INT TERM
            failed=0
            # run WHAT COMMAND: one check, ok or FAILED with what the command said.
            run() {
              if (eval "$2") >"$scratch/log" 2>&1; then echo "ok      $1"; else echo "FAILED  $1"; sed 's/^/        /' "$scratch/log"; failed=1; fi
            }
            # value NAME WHAT COMMAND: a value later checks use, shown; FAILED when the command gives none.
            value() {
              if v=$(eval "$3" 2>"$scratch/log") && [ -n "$v" ]; then echo "ok      $2: $v"; else echo "FAILED  $2"; sed 's/^/        /' "$scratch/log"; failed=1; v=; fi
              eval "$1=\$v"
            }

            """).Append(Helpers).Append('\n');
        foreach (var section in Sections(bundle))
        {
            foreach (var step in section.Steps)
            {
                var what = section.Folder is null ? step.What : $"{section.Folder}: {step.What}";
                if (what.Contains('\'', StringComparison.Ordinal) || step.Command.Contains('\'', StringComparison.Ordinal))
                {
                    // They are single-quoted for sh below.
                    throw new InvalidOperationException($"A check of the bundle script contains a single quote: {what}");
                }

                if (step.Variable is null)
                {
                    script.Append("run '").Append(what).Append("' '").Append(step.Command).Append("'\n");
                }
                else
                {
                    script.Append("value ").Append(step.Variable).Append(" '").Append(what).Append("' '").Append(step.Command).Append("'\n");
                }
            }
        }

        script.Append("exit $failed\n");
        return script.ToString();
    }

    /// <summary>
    /// Every check of the bundle, in order: the bundle as a whole, each record, each tree head
    /// (<see cref="HeadSteps"/>: later kinds of evidence about a head, such as renewal
    /// time-stamps, add their lines there).
    /// </summary>
    private static IEnumerable<Section> Sections(EvidenceBundleSummary bundle)
    {
        yield return new Section("The bundle", null, [
            new Step("root.pem holds only roots you trust",
                """t=$(fingerprints "$root"); b=$(fingerprints root.pem); echo "root.pem: $b"; echo "you gave: $t"; [ -n "$b" ] && echo "$b" | while read -r f; do case "$t" in *"$f"*) ;; *) echo "root.pem holds a certificate you did not give"; exit 1 ;; esac; done""",
                "the exporter's root is the one you gave (verify-bundle calls it `Bundle.CertificateUntrusted root.pem`). Every check below trusts only `$root`, whatever root.pem holds."),
            new Step("every file has the SHA-256 manifest.json lists",
                """sed -n "s/^    \"\([^\"]*\)\": \"\([0-9a-f]\{64\}\)\",\{0,1\}\$/\2 \1/p" manifest.json | { n=0; while read -r sum file; do n=$((n + 1)); [ "$(openssl dgst -sha256 -r "$file" | cut -c1-64)" = "$sum" ] || { echo "$file: not the SHA-256 manifest.json lists"; exit 1; }; done; [ $n -gt 1 ]; }""",
                "no listed file was changed or removed since the export (a file added to the folder is not looked for; verify-bundle refuses one in the zip). The manifest is not signed, so this proves nothing about the evidence by itself: the signatures and the token below do."),
        ]);
        foreach (var record in bundle.Records)
        {
            yield return RecordSection(record, withBody: bundle.Window is null);
        }

        // Every bundle has this line, a unary exchange's too (it has no chain, and says so): a bundle
        // whose streamed records were removed must not lose the check along with them.
        yield return new Section("Streamed calls", null, [
            new($"the streamed records, if any, are whole chains: per side and direction every link in order, each naming the hash of the one before, closed by its end record ({EvidenceBundle.CheckRecordFile})",
                $"python3 {EvidenceBundle.CheckRecordFile} streams",
                "a streamed call's messages are its records, one each, chained by their signed headers: this says none was removed, reordered, taken from another stream, or cut off after the last, and it fails with the code verify-bundle gives (`MessageLog.StreamGap`, `MessageLog.StreamOutOfOrder`, `MessageLog.StreamBroken`, naming the link's header.bin). The rule is below."),
        ]);

        foreach (var size in bundle.HeadSizes)
        {
            var d = EvidenceBundle.HeadFolder(size);
            yield return new Section($"Tree head of size {size}", d.TrimEnd('/'), HeadSteps(d));
        }
    }

    /// <summary>
    /// The signature over tbs.bin: directly, or for the batch form (first byte 0xB1) the path
    /// from tbs.bin to the batch root by check-record.py, then the root's signature by openssl.
    /// </summary>
    private static Step SignatureStep(Record record, string d, string py)
    {
        if (!BatchSignature.IsBatchForm(record.Signature.Span))
        {
            return new("signature.der is valid over tbs.bin with the key of signer.pem",
                $"openssl dgst -sha256 -binary {d}tbs.bin | openssl pkeyutl -verify -certin -inkey {d}signer.pem -sigfile {d}signature.der",
                "the holder of the sender's signing key signed these 64 bytes.");
        }

        var o = $"batch-root-{record.Sequence}";
        return new($"signature.der (batch form) leads from tbs.bin to a root signed with the key of signer.pem ({py})",
            $"o=\"${{scratch:-${{TMPDIR:-/tmp}}}}\"; python3 {py} batch {d.TrimEnd('/')} \"$o\" && openssl dgst -sha256 -binary \"$o/{o}.tbs\" | openssl pkeyutl -verify -certin -inkey {d}signer.pem -sigfile \"$o/{o}.sig\"",
            "the holder of the sender's signing key signed, once for a batch of messages, a hash-tree root that these 64 bytes are a leaf of: as good as a signature of them alone.");
    }

    private static Section RecordSection(Record record, bool withBody)
    {
        var d = EvidenceBundle.RecordFolder(record.Sequence);
        var title = $"Record {record.Sequence} ({(MessageDirection)record.Direction}, {record.Status})";
        var py = EvidenceBundle.CheckRecordFile;
        List<Step> steps =
        [
            new($"the record hash, recomputed from record.json, header.bin and signature.der ({py})",
                $"python3 {py} hash {d.TrimEnd('/')}",
                "no field of the record was changed since the node logged it, as far as the hash goes: the hash itself is proven by the inclusion proof and the head below. Needs python3 (standard library only); without it this line fails."),
            new($"the inclusion proof leads from the record hash to the root of its head ({py})",
                $"python3 {py} inclusion {d.TrimEnd('/')}",
                "the record is leaf SEQ − 1 of the tree whose head (size and root, in head.bin) the node signed and the TSA stamped: the node cannot remove or change it without contradicting that head."),
        ];
        if (record.Signature.IsEmpty)
        {
            return new Section(title + ": not signed", d.TrimEnd('/'), steps);
        }

        steps.InsertRange(0,
        [
            new("the record time (at_unix_ms of record.json, in seconds)",
                $"""sed -n "s/^ *\"at_unix_ms\": \([0-9]*\)[0-9][0-9][0-9],\$/\1/p" {d}record.json""",
                "the time this record is judged at, on the logging node's clock.",
                Variable: "at"),
        ]);
        steps.AddRange(
        [
            new("signer.pem chains to the root you trust, at the record time",
                $"openssl verify -attime \"$at\" -CAfile \"$root\" {d}signer.pem",
                "the bus CA issued the sender's certificate and it was within its validity then. Not that it was not revoked: the OCSP lines below."),
            new("signer.pem is the certificate record.json names (signer_certificate_sha256)",
                $"grep -q \"\\\"signer_certificate_sha256\\\": \\\"$(openssl x509 -in {d}signer.pem -outform DER | openssl dgst -sha256 -r | cut -c1-64)\\\"\" {d}record.json",
                "the certificate is the one the node logged with the record (its hash is in the record hash)."),
            new($"signer.pem is a certificate of the member that sent the message ({py})",
                $"python3 {py} signer {d.TrimEnd('/')} \"$(openssl x509 -in {d}signer.pem -noout -subject -nameopt RFC2253)\"",
                "its subject names the member that signs this direction: the client's for a request, the service's for a response (record.json's client or service)."),
            SignatureStep(record, d, py),
            record.BodyLogged && withBody
                ? new("tbs.bin is SHA-256(header.bin) then SHA-256(body.bin)",
                    $"(openssl dgst -sha256 -binary {d}header.bin; openssl dgst -sha256 -binary {d}body.bin) | cmp - {d}tbs.bin",
                    "the signature covers exactly this header and this body.")
                : new("tbs.bin starts with SHA-256(header.bin) (the body is not logged; its hash is body_sha256)",
                    $"openssl dgst -sha256 -binary {d}header.bin | cmp -n 32 - {d}tbs.bin",
                    "the signature covers this header; the body is known only by its hash, body_sha256."),
        ]);
        if (record.BodyLogged && withBody)
        {
            steps.Add(new("body.bin hashes to body_sha256 of record.json",
                $"grep -q \"\\\"body_sha256\\\": \\\"$(openssl dgst -sha256 -r {d}body.bin | cut -c1-64)\\\"\" {d}record.json",
                "the body is the one the node logged (body_sha256 is in the record hash)."));
        }

        steps.AddRange(
        [
            new("ocsp.der is signed by the root or a responder it certified, valid at the record time, and answers for signer.pem",
                $"openssl ocsp -respin {d}ocsp.der -CAfile \"$root\" -issuer \"$root\" -sha256 -cert {d}signer.pem -no_nonce -attime \"$at\" -validity_period {OcspValidityPeriod}",
                "the CA, or a responder it certified and whose certificate was valid at the record time, signed this response about this certificate (`-sha256`: the bus names certificates by SHA-256). `-validity_period` keeps openssl from judging the response against today; the next two lines judge it."),
            new("ocsp.der says signer.pem is good",
                $"s=$(openssl ocsp -respin {d}ocsp.der -noverify -issuer \"$root\" -sha256 -cert {d}signer.pem -validity_period {OcspValidityPeriod}); echo \"$s\"; echo \"$s\" | grep -Eq \"(^|: )good$\"",
                "the responder called the certificate good. Not revoked or unknown."),
            new("ocsp.der was fresh at the record time (thisUpdate, nextUpdate, producedAt)",
                $"ocsp_times {d}ocsp.der \"$at\"",
                "the response was current when the message was signed and sent: thisUpdate − 5 min ≤ record time ≤ nextUpdate + 5 min, thisUpdate at most 1 h before it, producedAt at most 5 min after it (5 minutes for clocks that differ, as verify-bundle and the nodes allow). So \"good\" is what the sender's node saw then; not that nobody revoked the certificate later with an earlier date."),
        ]);
        return new Section(title, d.TrimEnd('/'), steps);
    }

    /// <summary>The checks of one tree head (folder <paramref name="d"/>, with a trailing slash).</summary>
    private static List<Step> HeadSteps(string d) =>
    [
        new("the time of head.tst (Time stamp:, in seconds)",
            $"epoch \"$(openssl ts -reply -in {d}head.tst -token_in -text | sed -n \"s/^Time stamp: //p\")\"",
            "the time the TSA vouches for; the head's certificate and token are judged at it.",
            Variable: "ts_at"),
        new("head.tst is a token over head.bin by a TSA of the root you trust, at its own time",
            $"openssl ts -verify -data {d}head.bin -in {d}head.tst -token_in -CAfile \"$root\" -untrusted {d}tsa.pem -attime \"$ts_at\"",
            "head.bin existed at the token's time: the TSA (certified by the root, its certificate valid then) signed SHA-256(head.bin) and that time. Not that the TSA's key was safe until then: taken on trust, as with any RFC 3161 token."),
        new("head.tst is not from the future (at most 5 minutes ahead of this computer)",
            "[ \"$ts_at\" -le $(($(date +%s) + 300)) ]",
            "a token dated after today cannot be right; the one check made against today."),
        new("tsa.pem is the certificate that signed head.tst",
            $"[ \"$(openssl pkcs7 -inform DER -in {d}head.tst -print_certs | openssl x509 -noout -fingerprint -sha256)\" = \"$(openssl x509 -in {d}tsa.pem -noout -fingerprint -sha256)\" ]",
            "tsa.pem is only a copy, for reading; this says it is the right one."),
        new("signer.pem chains to the root you trust, at the time of head.tst",
            $"openssl verify -attime \"$ts_at\" -CAfile \"$root\" {d}signer.pem",
            "the bus CA issued the node member's signing certificate and it was within its validity when the head was stamped."),
        new($"signer.pem is a certificate of the member whose node head.bin names ({EvidenceBundle.CheckRecordFile})",
            $"python3 {EvidenceBundle.CheckRecordFile} signer {d.TrimEnd('/')} \"$(openssl x509 -in {d}signer.pem -noout -subject -nameopt RFC2253)\"",
            "one member's key signs for all its nodes, and head.bin names the node: a head of another member's node cannot pass for this one's."),
        new("head.sig is the signature of signer.pem over head.bin",
            $"openssl dgst -sha256 -binary {d}head.bin | openssl pkeyutl -verify -certin -inkey {d}signer.pem -sigfile {d}head.sig",
            "the node's member signed this head (node, tree size, root hash, time)."),
        RenewalStep(d),
    ];

    /// <summary>
    /// The renewals of a head (docs/audit.md, "Renewing evidence"), however many there are: the
    /// script is written at export, and a renewal adds files but leaves check.sh as it is. Each
    /// renewal-K.tst is checked as head.tst is, at its own time, over the concatenation of what came
    /// before it (built in the scratch folder), and its time against the notAfter of the TSA
    /// certificate of the stamp it renews.
    /// </summary>
    private static Step RenewalStep(string d) => new(
        "renewal-K.tst, if any: each a token of a TSA of the root you trust, at its own time, over head.bin, head.tst and the renewals before it, made before the TSA certificate of the stamp it renews expired",
        $$"""
        (tmp=${TMPDIR:-/tmp}; data="${scratch:-$tmp}/renewed-{{d.TrimEnd('/').Replace('/', '-')}}"; cat {{d}}head.bin {{d}}head.tst > "$data" || exit 1
          prev={{d}}head.tst; prev_tsa={{d}}tsa.pem; prev_at=$ts_at; k=1
          while [ -f {{d}}renewal-$k.tst ]; do
            t={{d}}renewal-$k.tst; t_tsa={{d}}renewal-$k.tsa.pem
            t_at=$(epoch "$(openssl ts -reply -in $t -token_in -text | sed -n "s/^Time stamp: //p")") || exit 1
            echo "$t: made at $t_at, over head.bin, head.tst and the $((k - 1)) renewal(s) before it"
            openssl ts -verify -data "$data" -in $t -token_in -CAfile "$root" -untrusted $t_tsa -attime "$t_at" || exit 1
            [ "$(openssl pkcs7 -inform DER -in $t -print_certs | openssl x509 -noout -fingerprint -sha256)" = "$(openssl x509 -in $t_tsa -noout -fingerprint -sha256)" ] || { echo "$t_tsa is not the certificate that signed $t"; exit 1; }
            [ "$t_at" -ge "$prev_at" ] || { echo "$t is dated before $prev, the stamp it renews"; exit 1; }
            end=$(epoch "$(openssl x509 -in $prev_tsa -noout -enddate | cut -d= -f2)") || exit 1
            [ "$t_at" -le "$end" ] || { echo "$t was made after the TSA certificate of $prev expired: not evidence"; exit 1; }
            cat $t >> "$data"; prev=$t; prev_tsa=$t_tsa; prev_at=$t_at; k=$((k + 1))
          done
          rm -f "$data"; echo "$((k - 1)) renewal(s)")
        """,
        "present only once the bundle was renewed (`xbus audit renew`). Each renewal proves that head.tst, and the renewals before it, existed while the certificate of the TSA that made the last of them was still valid, so the head's time stays provable after that certificate expired, or its key or hash aged (the chain goes on with the next renewal). A renewal made after that certificate had expired proves nothing about the earlier stamp and fails this line, as verify-bundle fails it with `Bundle.RenewalTooLate`. Not that the last renewing TSA's key is still safe: taken on trust, until the next renewal.");
}
