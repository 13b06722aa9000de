#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Self-test of the Node.js interop peer: client.js against server.js over mTLS, every scenario.
# Makes throwaway certificates in a mktemp directory, starts server.js, runs each scenario,
# prints one line per check and a closing "N passed, N failed" line; exits non-zero on any
# unexpected outcome. Needs node, openssl and `npm ci` (or npm install) done in this folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [[ ! -d node_modules/@grpc/grpc-js || ! -d node_modules/@grpc/proto-loader ]]; then
  echo "selftest: node_modules missing; run 'npm ci' in $here first" >&2
  exit 2
fi

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- certificates (EC P-256) ------------------------------------------------------------------
make_ca() { # name
  openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/$1.key" 2>/dev/null
  openssl req -new -x509 -key "$tmp/$1.key" -out "$tmp/$1.pem" -days 2 -subj "/CN=$1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
make_leaf() { # name ca extfile-lines
  local name="$1" ca="$2" ext="$3"
  openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/$name.key.sec1" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$tmp/$name.key.sec1" -out "$tmp/$name.key"
  openssl req -new -key "$tmp/$name.key" -out "$tmp/$name.csr" -subj "/CN=$name" 2>/dev/null
  printf '%b\n' "$ext" > "$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$tmp/$ca.pem" -CAkey "$tmp/$ca.key" -CAcreateserial \
    -out "$tmp/$name.pem" -days 2 -sha256 -extfile "$tmp/$name.ext" 2>/dev/null
}
make_ca interop-ca
make_ca rogue-ca
make_leaf server interop-ca "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost"
make_leaf client interop-ca "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"
make_leaf rogue-client rogue-ca "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"

# ---- server -----------------------------------------------------------------------------------
# Its stdin is a FIFO held open by fd 3; closing fd 3 is how the server is told to stop.
mkfifo "$tmp/server.stdin"
node server.js --port 0 --ca "$tmp/interop-ca.pem" --cert "$tmp/server.pem" --key "$tmp/server.key" --verbose \
  < "$tmp/server.stdin" > "$tmp/server.out" 2> "$tmp/server.err" &
server_pid=$!
exec 3> "$tmp/server.stdin"

port=""
for _ in $(seq 1 100); do
  if grep -q '^LISTENING [0-9]\+$' "$tmp/server.out" 2>/dev/null; then
    port="$(sed -n 's/^LISTENING \([0-9]\+\)$/\1/p' "$tmp/server.out")"
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "selftest: server did not print LISTENING <port>" >&2
  cat "$tmp/server.out" "$tmp/server.err" >&2
  exit 1
fi
echo "server.js: LISTENING $port"

# ---- scenarios --------------------------------------------------------------------------------
passed=0
failed=0
check() { # label expected-rc js-expression-over-r client-args...
  local label="$1" want_rc="$2" expr="$3"
  shift 3
  local out rc=0
  out="$(node client.js --target "127.0.0.1:$port" "$@" 2> "$tmp/client.err")" || rc=$?
  if [[ "$rc" == "$want_rc" ]] && CHECK_EXPR="$expr" node -e '
      const r = process.argv[1] ? JSON.parse(process.argv[1]) : null;
      process.exit(new Function("r", "return (" + process.env.CHECK_EXPR + ");")(r) ? 0 : 1);' "$out" 2>/dev/null; then
    passed=$((passed + 1)); echo "PASS $label: $out"
  else
    failed=$((failed + 1)); echo "FAIL $label (exit $rc, want $want_rc; expected $expr): $out"
    sed 's/^/  client stderr: /' "$tmp/client.err"
  fi
}
good=(--ca "$tmp/interop-ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key")

check unary 0 'r.ok && r.text === "hello" && r.index === 0 && r.echoedMetadata === "abc" && r.payloadHex === "00017f80feff"' \
  --scenario unary "${good[@]}"
check unary-server-name 0 'r.ok && r.text === "hello" && r.echoedMetadata === "abc"' \
  --scenario unary "${good[@]}" --server-name localhost
check server-stream 0 'r.ok && r.count === 5 && JSON.stringify(r.indexes) === "[0,1,2,3,4]" && r.texts.every((t) => t === "stream") && r.echoedMetadata === "abc"' \
  --scenario server-stream "${good[@]}"
check client-stream 0 'r.ok && r.text === "a,b,c" && r.index === 3 && r.echoedMetadata === "abc"' \
  --scenario client-stream "${good[@]}"
check duplex 0 'r.ok && JSON.stringify(r.indexes) === "[0,1,2]" && JSON.stringify(r.texts) === "[\"ping-0\",\"ping-1\",\"ping-2\"]"' \
  --scenario duplex "${good[@]}"
check error 0 '!r.ok && r.code === 7 && r.message === "requested failure" && r.statusDetailsDecoded && r.statusDetailsConsistent && r.errorInfoReason === "Test.RequestedFailure" && r.errorInfoDomain === "exchangebus" && r.status.details[0].typeUrl === "type.googleapis.com/google.rpc.ErrorInfo"' \
  --scenario error "${good[@]}"
check deadline 0 '!r.ok && r.code === 4' \
  --scenario deadline "${good[@]}"
check oversized 0 '!r.ok && r.code === 8' \
  --scenario oversized "${good[@]}"
check oversized-reply 0 '!r.ok && r.code === 8' \
  --scenario oversized-reply "${good[@]}"
# Negative TLS checks: the server requires a client certificate from its CA, and the client
# verifies the server's name.
check rogue-client-cert 0 '!r.ok && r.code === 14' \
  --scenario unary --ca "$tmp/interop-ca.pem" --cert "$tmp/rogue-client.pem" --key "$tmp/rogue-client.key"
check wrong-server-name 0 '!r.ok && r.code === 14' \
  --scenario unary "${good[@]}" --server-name wrong.example
check unknown-scenario 1 'r === null' --scenario nope "${good[@]}"

# The deadline call must have been seen as cancelled by the server (delay honours cancellation).
# The server logs it when its delay ends early; wait for the line (up to 10 s on a loaded machine)
# rather than for a fixed time.
seen=""
for _ in $(seq 1 100); do
  if grep -q 'Unary cancelled' "$tmp/server.err"; then seen=yes; break; fi
  sleep 0.1
done
if [[ -n "$seen" ]]; then
  passed=$((passed + 1)); echo "PASS server-cancellation: server log shows the delayed call cancelled"
else
  failed=$((failed + 1)); echo "FAIL server-cancellation: no 'Unary cancelled' in server log"
fi

# ---- shutdown on stdin close ------------------------------------------------------------------
exec 3>&-
stopped=""
for _ in $(seq 1 50); do
  if ! kill -0 "$server_pid" 2>/dev/null; then stopped=yes; break; fi
  sleep 0.1
done
server_rc=0
if [[ -n "$stopped" ]]; then wait "$server_pid" || server_rc=$?; fi
if [[ -n "$stopped" && "$server_rc" == 0 && "$(wc -l < "$tmp/server.out")" == 1 ]]; then
  passed=$((passed + 1)); echo "PASS server-shutdown: exited 0 after stdin closed; stdout was exactly one line"
else
  failed=$((failed + 1)); echo "FAIL server-shutdown: stopped=${stopped:-no} rc=$server_rc stdout=$(wc -l < "$tmp/server.out") lines"
fi
server_pid=""

if (( failed > 0 )); then
  echo "--- server stderr ---"; cat "$tmp/server.err"
fi
echo "selftest: $passed passed, $failed failed"
(( failed == 0 ))
