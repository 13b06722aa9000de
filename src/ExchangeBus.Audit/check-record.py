#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What openssl cannot check in an ExchangeBus evidence bundle, with python3's standard library only.

    python3 check-record.py hash records/SEQ        the record hash, from record.json, header.bin, signature.der
    python3 check-record.py inclusion records/SEQ   the inclusion proof, into heads/SIZE/head.bin's root
    python3 check-record.py signer FOLDER SUBJECT   the signer is the member that sent the record (records/SEQ)
                                                    or whose node the head names (heads/SIZE); SUBJECT is
                                                    openssl x509 -noout -subject -nameopt RFC2253 of its signer.pem

Run from the unzipped bundle (check.sh does). Exits 0 when the part holds, 1 with the reason when it
does not. The rules are README.md's (and docs/design/message-log.md's, docs/design/merkle.md's).
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


def tree_head_fields(data):
    """The fields of an exchangebus.audit.v1.TreeHead by number; 1 node (text), 2 tree_size, 3 root_hash, 4 created_at."""
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
    fields = tree_head_fields(data)
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


# Requests (and file manifests) are signed by the client's member, responses (and receipts) by the service's.
SIGNED_BY_CLIENT = {1, 3, 6, 7, 8}
SIGNED_BY_SERVICE = {2, 4, 9, 10}


def rfc2253(value):
    return "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)


def check_signer(folder, subject):
    if folder.startswith("heads/"):
        head_file = os.path.join(folder, "head.bin")
        try:
            owner, what = tree_head_fields(read(head_file)).get(1, b"").decode("utf-8"), "the member whose node head.bin names"
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


if __name__ == "__main__":
    checks = {"hash": check_hash, "inclusion": check_inclusion, "signer": check_signer}
    if len(sys.argv) != (4 if sys.argv[1:2] == ["signer"] else 3) or sys.argv[1] not in checks:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        checks[sys.argv[1]](*sys.argv[2:])
    except (OSError, ValueError, KeyError, TypeError, struct.error) as e:
        fail(f"{sys.argv[2]}: cannot check ({type(e).__name__}: {e})")
