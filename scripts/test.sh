#!/usr/bin/env bash
# The test command: finds a PostgreSQL server for the store's conformance tests (they
# make a database of their own per test and drop it), starts a private one when none is
# reachable, then runs `cargo test --workspace`. Arguments go to cargo test.
#
#   scripts/test.sh                 # everything
#   HOTLINE_TEST_PG_URL=postgres://user@host:port/db scripts/test.sh   # that server
#
# A private server: Debian's `postgresql` package (installed if missing, when run as
# root), a cluster in a temporary directory owned by the `postgres` user, trust auth on
# 127.0.0.1 at a free port, stopped and removed when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."

url=${HOTLINE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
reachable() {
  local rest=${1#*://}; rest=${rest#*@}; local hostport=${rest%%/*}
  local host=${hostport%%:*} port=5432
  [[ $hostport == *:* ]] && port=${hostport##*:}
  command -v pg_isready >/dev/null && pg_isready -q -h "$host" -p "$port" -t 3
}

own=""
stop_own() {
  [ -n "$own" ] || return 0
  su postgres -s /bin/sh -c "'$pgbin/pg_ctl' -D '$own/data' -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$own"
}
trap stop_own EXIT

if [ -n "${HOTLINE_TEST_OWN_PG:-}" ] || ! reachable "$url"; then
  if [ -n "${HOTLINE_TEST_PG_URL:-}" ] && [ -z "${HOTLINE_TEST_OWN_PG:-}" ]; then
    echo "HOTLINE_TEST_PG_URL=$HOTLINE_TEST_PG_URL is not reachable" >&2
    exit 1
  fi
  echo "no PostgreSQL server at $url: starting one of the tests' own"
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "install Debian's postgresql package (or set HOTLINE_TEST_PG_URL)" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  own=$(mktemp -d /tmp/hotline-test-pg.XXXXXX)
  chown postgres "$own"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  su postgres -s /bin/sh -c "'$pgbin/initdb' -D '$own/data' -A trust -U postgres -E UTF8 >/dev/null"
  su postgres -s /bin/sh -c "'$pgbin/pg_ctl' -D '$own/data' -l '$own/log' -w \
    -o \"-p $port -k $own -c listen_addresses=127.0.0.1 -c fsync=on\" start >/dev/null"
  url=postgres://postgres@127.0.0.1:$port/postgres
fi
export HOTLINE_TEST_PG_URL=$url
echo "PostgreSQL for the tests: $url"
cargo test --workspace "$@"
