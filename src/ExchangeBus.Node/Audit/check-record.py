#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What openssl cannot check in an ExchangeBus evidence bundle, with python3's standard library only.

    python3 check-record.py hash records/SEQ        the record hash, from record.json, header.bin, signature.der
    python3 check-record.py inclusion records/SEQ   the inclusion proof, into heads/SIZE/head.bin's root
    python3 check-record.py signer FOLDER SUBJECT   the signer is the member that sent the record (records/SEQ)
                                                    or whose node the head names (heads/SIZE); SUBJECT is
                                                    openssl x509 -noout -subject -nameopt RFC2253 of its signer.pem
    python3 check-record.py streams                 the chains of a streamed exchange: every link, in order, each
                                                    naming the hash of the one before, closed by an end record
    python3 check-record.py batch records/SEQ OUT   a batch-form signature.der: its path leads from tbs.bin to the root
                                                    it carries; writes OUT/batch-root-SEQ.tbs (what the root signature
                                                    is over) and OUT/batch-root-SEQ.sig (that signature, DER) for openssl

Run from the unzipped bundle (check.sh does). Exits 0 when the part holds, 1 with the reason when it
does not (for streams, each problem with the code xbus audit verify-bundle gives it). The rules are README.md's (and docs/design/message-log.md's, docs/design/merkle.md's).
"""
import hashlib
import json
import os
import struct
import sys

ABSENT = struct.pack(">I", 0xFFFFFFFF)


def text(v):
    return ABSENT if v is None else struct.pack(">I", len(v.encode("utf-8"))) + v.encode("utf-8")


def blob(v):
    return ABSENT if v is None else struct.pack(">I", len(v)) + v


def i64(v):
    return struct.pack(">q", v)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def unhex(v):
    return None if v is None else bytes.fromhex(v)


def fail(message):
    print(message)
    sys.exit(1)


def load_record(folder):
    record = json.loads(read(os.path.join(folder, "record.json")))
    if record.get("format") != "exchangebus-evidence-record/1":
        fail(f"{folder}/record.json: not a record of the format exchangebus-evidence-record/1")
    if folder.rstrip("/").split("/")[-1] != str(record["sequence"]):
        fail(f"{folder}/record.json: sequence {record['sequence']} is not its folder's")
    return record


def check_hash(folder):
    r = load_record(folder)
    signature = os.path.join(folder, "signature.der")
    content = (b"\x01" + i64(r["sequence"]) + i64(r["at_unix_ms"]) + text(r["message_id"]) + i64(r["direction"])
               + text(r["client"]) + text(r["service"]) + text(r["user_id"]) + text(r["subject_id"])
               + text(r["issue"]) + text(r["status"]) + blob(read(os.path.join(folder, "header.bin")))
               + (b"\x01" if r["body_logged"] else b"\x00")
               + blob(unhex(r["body_sha256"])) + blob(read(signature) if os.path.exists(signature) else b"")
               + blob(unhex(r["signer_certificate_sha256"])) + text(r["correlation_id"]))
    computed = hashlib.sha256(unhex(r["prev_hash"]) + content).hexdigest()
    if computed != r["hash"]:
        fail(f"{folder}: the hash recomputed from record.json, header.bin and signature.der is {computed}, not the record's {r['hash']}")
    print(f"{folder}: record hash {computed}")


def varint(data, i):
    value, shift = 0, 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("a truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def proto_fields(data):
    """The fields of a protobuf message by number (the last of a repeated one): for an exchangebus.audit.v1.TreeHead
    1 node (text), 2 tree_size, 3 root_hash, 4 created_at; for an exchangebus.exchange.v1.MessageHeader 1 kind,
    20 streamed, 21 stream_position, 22 previous_hash."""
    fields, i = {}, 0
    while i < len(data):
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 2:
            length, i = varint(data, i)
            if i + length > len(data):
                raise ValueError("a truncated field")
            value, i = data[i:i + length], i + length
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        fields[number] = value
    return fields


def tree_head(data):
    fields = proto_fields(data)
    return fields.get(2, 0), fields.get(3, b"")


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf_index, tree_size, leaf, proof):
    """RFC 9162 section 2.1.3.2; None when the proof has the wrong length for the sizes."""
    if leaf_index >= tree_size:
        return None
    fn, sn, r = leaf_index, tree_size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def check_inclusion(folder):
    r = load_record(folder)
    proof = json.loads(read(os.path.join(folder, "inclusion-proof.json")))
    head_file = os.path.join(proof["head"], "head.bin")
    try:
        size, root = tree_head(read(head_file))
    except ValueError as e:
        fail(f"{head_file}: not a serialized TreeHead ({e})")
    if proof["head"] != f"heads/{size}":
        fail(f"{head_file}: tree size {size} is not its folder's")
    if proof["tree_size"] != size:
        fail(f"{folder}/inclusion-proof.json: tree_size {proof['tree_size']} is not the head's, {size}")
    if proof["leaf_index"] != r["sequence"] - 1:
        fail(f"{folder}/inclusion-proof.json: leaf {proof['leaf_index']} is not record {r['sequence']}'s (leaf {r['sequence'] - 1})")
    computed = root_from_inclusion(proof["leaf_index"], size, unhex(r["hash"]), [unhex(h) for h in proof["hashes"]])
    if computed is None or computed != root:
        fail(f"{folder}/inclusion-proof.json: does not lead from the record hash to the root of {head_file} ({root.hex()})")
    print(f"{folder}: leaf {proof['leaf_index']} of the tree of size {size}, root {root.hex()}")


BATCH_LABEL = b"ExchangeBus.EnvelopeBatch.v1"


def check_batch(folder, out):
    """docs/design/envelope-signature.md, "Batch form"."""
    tbs, s = read(os.path.join(folder, "tbs.bin")), read(os.path.join(folder, "signature.der"))
    if len(tbs) != 64 or len(s) < 43 or s[0] != 0xB1:
        fail(f"{folder}/signature.der: not a batch-form signature (first byte 0xB1) over a 64-byte tbs.bin")
    size, index, p = struct.unpack(">IIB", s[1:10])
    if not 1 <= size <= 65536 or index >= size or len(s) <= 42 + 32 * p:
        fail(f"{folder}/signature.der: leaf {index} of tree size {size}, {p} path hashes: not a well-formed batch signature")
    root, path, root_sig = s[10:42], [s[42 + 32 * i:74 + 32 * i] for i in range(p)], s[42 + 32 * p:]
    if root_from_inclusion(index, size, tbs, path) != root:
        fail(f"{folder}/signature.der: the path does not lead from tbs.bin (leaf {index} of {size}) to the root {root.hex()}")
    name = folder.rstrip("/").split("/")[-1]
    with open(os.path.join(out, f"batch-root-{name}.tbs"), "wb") as f:
        f.write(BATCH_LABEL + size.to_bytes(8, "big") + root)
    with open(os.path.join(out, f"batch-root-{name}.sig"), "wb") as f:
        f.write(root_sig)
    print(f"{folder}: leaf {index} of a batch of {size}, root {root.hex()}")


# Requests (and file manifests) are signed by the client's member, responses (and receipts) by the service's.
SIGNED_BY_CLIENT = {1, 3, 6, 7, 8}
SIGNED_BY_SERVICE = {2, 4, 9, 10}


def rfc2253(value):
    return "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)


def check_signer(folder, subject):
    if folder.startswith("heads/"):
        head_file = os.path.join(folder, "head.bin")
        try:
            owner, what = proto_fields(read(head_file)).get(1, b"").decode("utf-8"), "the member whose node head.bin names"
        except ValueError as e:
            fail(f"{head_file}: not a serialized TreeHead ({e})")
    else:
        r = load_record(folder)
        owner = r["client"] if r["direction"] in SIGNED_BY_CLIENT else r["service"] if r["direction"] in SIGNED_BY_SERVICE else ""
        what = f"the member that sent a record of direction {r['direction']}"
    parts = owner.split("/")
    if len(parts) < 3:
        fail(f"{folder}: no member to compare the signer with ({owner!r})")
    expected = f"subject=CN={rfc2253(parts[2])},O={rfc2253(parts[1])},DC={rfc2253(parts[0])}"
    if subject != expected:
        fail(f"{folder}/signer.pem: {subject} is not a signing certificate of {what}, {'/'.join(parts[:3])} ({expected})")
    print(f"{folder}/signer.pem: {subject}, {'/'.join(parts[:3])}")


DIRECTIONS = {1: "ClientRequest", 2: "ClientResponse", 3: "ProviderRequest", 4: "ProviderResponse"}
END_KINDS = {6, 7}  # REQUEST_END, RESPONSE_END


def check_chain(side, direction, failed, ended_by_response, side_file, problems):
    """One chain of a streamed call; True when its own end record closed it. The same rule as verify-bundle's."""
    name = DIRECTIONS[direction]
    chain = [link for link in side if link[1]["direction"] == direction and link[2] is not None]
    next_position, previous, last = 0, b"", side_file
    for i, (folder, record, fields, header) in enumerate(chain):
        file = f"{folder}/header.bin"
        position = fields.get(21, 0)
        code = None
        if position > next_position:
            in_bundle = any(link[2].get(21, 0) == next_position for link in chain)
            code = "MessageLog.StreamOutOfOrder" if in_bundle else "MessageLog.StreamGap"
        elif position < next_position:
            code = "MessageLog.StreamOutOfOrder"
        elif fields.get(22, b"") != previous:
            code = "MessageLog.StreamBroken"
        if code is not None:
            problems.append(f"{code} {file}: " + {
                "MessageLog.StreamGap": f"Link {position} of the {name} chain, but link {next_position} is missing: a message of the stream was removed, or never logged.",
                "MessageLog.StreamOutOfOrder": f"Link {position} of the {name} chain comes where link {next_position} should: the links are not in the order they were sent.",
                "MessageLog.StreamBroken": f"Link {position} of the {name} chain does not name the hash of the link before it: it is not of this stream.",
            }[code])
            return True
        if fields.get(1, 0) in END_KINDS:
            if i != len(chain) - 1:
                problems.append(f"MessageLog.StreamOutOfOrder {chain[i + 1][0]}/header.bin: A link of the {name} chain after its end record (link {position}).")
            else:
                print(f"{file}: the {name} chain of {position} message(s) is closed by its end record")
            return True
        next_position, previous, last = next_position + 1, hashlib.sha256(hashlib.sha256(header).digest() + unhex(record["body_sha256"])).digest(), file
    if failed or ended_by_response:
        print(f"{last}: the {name} chain of {next_position} message(s) is closed by " + ("the outcome record of the failed call" if failed else "the RESPONSE_END"))
    elif not chain:
        problems.append(f"MessageLog.StreamGap {last}: The streamed exchange has no {name} link: that direction is missing.")
    else:
        problems.append(f"MessageLog.StreamGap {last}: The {name} chain ends at link {next_position - 1} without its end record: the stream is truncated (or was still open when these records were read).")
    return False


def check_streams():
    links = []  # (folder, record, header fields or None for an outcome record, header bytes), in sequence order
    for sequence in sorted(int(n) for n in os.listdir("records") if n.isdigit()):
        folder = f"records/{sequence}"
        record = load_record(folder)
        if record["direction"] not in DIRECTIONS:
            continue
        header = read(os.path.join(folder, "header.bin"))
        if header:
            fields = proto_fields(header)
            if fields.get(20, 0):
                links.append((folder, record, fields, header))
        elif record["status"] != "OK":
            links.append((folder, record, None, header))
    problems, streamed = [], False
    for request, response in ((1, 2), (3, 4)):
        side = [link for link in links if link[1]["direction"] in (request, response)]
        if not any(link[2] is not None for link in side):
            continue
        streamed = True
        failed = any(link[2] is None for link in side)
        first = next(link[0] for link in side if link[2] is not None) + "/header.bin"
        ended = check_chain(side, response, failed, False, first, problems)
        check_chain(side, request, failed, ended, first, problems)
    if problems:
        fail("\n".join(problems))
    if not streamed:
        print("no streamed record: a unary exchange has no chain")


if __name__ == "__main__":
    checks = {"hash": check_hash, "inclusion": check_inclusion, "signer": check_signer, "streams": check_streams, "batch": check_batch}
    arguments = {"signer": 4, "streams": 2, "batch": 4}
    if sys.argv[1:2] == [] or sys.argv[1] not in checks or len(sys.argv) != arguments.get(sys.argv[1], 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        checks[sys.argv[1]](*sys.argv[2:])
    except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
        fail(f"{(sys.argv[2:] or ['records'])[0]}: cannot check ({type(e).__name__}: {e})")
