#!/usr/bin/env bash
# Runs every ExchangeBus test on a fresh machine: installs what the tests need (the npm packages
# of the grpc-js interop peer), restores and builds, runs all test projects, and ends with one
# line "N passed, N failed, N skipped". Exits non-zero if anything failed or did not run.
set -euo pipefail
cd "$(dirname "$0")"

for tool in dotnet node npm openssl python3; do
  command -v "$tool" >/dev/null || { echo "test.sh: '$tool' is required but not on PATH" >&2; exit 2; }
done

# Installs Debian packages as root, with one `apt-get update` for all of them. Nothing installed
# is started: a policy-rc.d that answers 101 ("action forbidden") is in place during the install
# (removed after, and only if test.sh put it there), and postgresql-common is told to create no
# main cluster, so installing postgresql leaves no system cluster on 5432 (the tests run their own).
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; } || return 1
  mkdir -p /etc/postgresql-common
  local createcluster=/etc/postgresql-common/createcluster.conf
  if grep -q '^[[:space:]]*create_main_cluster' "$createcluster" 2>/dev/null; then
    sed -i 's/^[[:space:]]*create_main_cluster.*/create_main_cluster = false/' "$createcluster"
  else
    echo 'create_main_cluster = false' >>"$createcluster"
  fi
  local policy="" status=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || status=$?
  [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
  return "$status"
}

# The evidence bundle tests move openssl's clock years ahead with libfaketime; they fail without it.
if ! command -v faketime >/dev/null; then
  echo "== installing faketime (apt-get)"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt_install faketime || true
  fi
  command -v faketime >/dev/null || { echo "test.sh: 'faketime' (Debian package faketime) is required and could not be installed: run as root on Debian/Ubuntu, or install it" >&2; exit 2; }
fi

# The X-Road REST tests (RestProtocolTests) call the node with the real curl, as an agency's developer would.
if ! command -v curl >/dev/null; then
  echo "== installing curl (apt-get)"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt_install curl || true
  fi
  command -v curl >/dev/null || { echo "test.sh: 'curl' is required and could not be installed: run as root on Debian/Ubuntu, or install it" >&2; exit 2; }
fi

# The web console's browser tests (tests/ExchangeBus.WebConsole.Tests) drive the system's Chromium
# through Playwright, which cannot download its own browser here.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (apt-get)"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt_install chromium || true
  fi
  [ -x /usr/bin/chromium ] || { echo "test.sh: /usr/bin/chromium (Debian package chromium) is required and could not be installed: run as root on Debian/Ubuntu, or install it" >&2; exit 2; }
fi

# The stores' tests run on SQLite and on PostgreSQL; each test class starts its own throwaway
# cluster with initdb and pg_ctl (tests/Shared/TempPostgres.cs), never a system service. Without
# them the PostgreSQL tests are ignored, and in CI (CI=true) they fail.
has_initdb() {
  [ -x /usr/local/bin/initdb ] && return 0
  command -v initdb >/dev/null && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if ! has_initdb; then
  echo "== installing postgresql (apt-get)"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt_install postgresql || true
  fi
  has_initdb || echo "test.sh: PostgreSQL's initdb (Debian package postgresql) could not be installed: the PostgreSQL tests are ignored (and fail in CI)" >&2
fi

# haproxy: the TCP balancer issue 20's cluster tests will put in front of several instances (no test
# uses it yet, so a missing one is only said).
if ! command -v haproxy >/dev/null; then
  echo "== installing haproxy (apt-get)"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt_install haproxy || true
  fi
  command -v haproxy >/dev/null || echo "test.sh: haproxy (Debian package haproxy) could not be installed" >&2
fi

echo "== installing the grpc-js interop peer (npm ci)"
(cd tests/interop-node && npm ci --no-audit --no-fund --loglevel=error)

echo "== building (Release)"
dotnet build ExchangeBus.sln -c Release -nologo -clp:ErrorsOnly

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
echo "== testing"
set +e
# A test that hangs is ended after 10 minutes and named in the log (with a dump of the test
# host), rather than holding the run until CI's own limit.
dotnet test ExchangeBus.sln -c Release --no-build -nologo --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 10m "$@"
status=$?
set -e

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
  # Name the failures again at the end, where a CI log is read first.
  grep -o 'testName="[^"]*"[^>]*outcome="Failed"' "$trx" | sed 's/^testName="\([^"]*\)".*/FAILED: \1/' || true
done

projects=$(ls -d tests/*.Tests 2>/dev/null | wc -l)
if [ "$files" -lt "$projects" ]; then
  echo "test.sh: only $files of $projects test projects reported results (a test host crashed?)" >&2
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
