#!/usr/bin/env bash
# The test command: finds a PostgreSQL server for the store's conformance tests (they
# make a database of their own per test and drop it), starts a private one when none is
# reachable, then runs `cargo test --workspace`, and the router's gRPC suite a second
# time on a PostgreSQL store. Arguments go to cargo test.
#
#   scripts/test.sh                 # everything
#   HOTLINE_TEST_PG_URL=postgres://user@host:port/db scripts/test.sh   # that server
#
# Debian's `postgresql` and `nats-server` packages are installed if missing (as root). A private server: a
# cluster in a temporary directory owned by the `postgres` user, trust auth on 127.0.0.1
# at a free port, stopped and removed when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."

# the server binaries: the crash test runs a cluster of its own, which it crashes
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "install Debian's postgresql package (the tests need its server)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# NATS with JetStream: the cluster tests start servers of their own (crates/cluster)
if [ -z "${NATS_SERVER:-}" ] && ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  [ "$(id -u)" = 0 ] || { echo "install Debian's nats-server package (the cluster tests start their own)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi

url=${HOTLINE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
usable() { psql "$1" -qAtX -c 'select 1' >/dev/null 2>&1; }

own=""
stop_own() {
  [ -n "$own" ] || return 0
  su postgres -s /bin/sh -c "'$pgbin/pg_ctl' -D '$own/data' -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$own"
}
trap stop_own EXIT

if [ -n "${HOTLINE_TEST_OWN_PG:-}" ] || ! usable "$url"; then
  if [ -n "${HOTLINE_TEST_PG_URL:-}" ] && [ -z "${HOTLINE_TEST_OWN_PG:-}" ]; then
    echo "HOTLINE_TEST_PG_URL=$HOTLINE_TEST_PG_URL does not take connections" >&2
    exit 1
  fi
  echo "no usable PostgreSQL server at $url: starting one of the tests' own"
  own=$(mktemp -d /tmp/hotline-test-pg.XXXXXX)
  chown postgres "$own"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  su postgres -s /bin/sh -c "'$pgbin/initdb' -D '$own/data' -A trust -U postgres -E UTF8 >/dev/null"
  su postgres -s /bin/sh -c "'$pgbin/pg_ctl' -D '$own/data' -l '$own/log' -w \
    -o \"-p $port -k $own -c listen_addresses=127.0.0.1\" start >/dev/null"
  url=postgres://postgres@127.0.0.1:$port/postgres
fi
export HOTLINE_TEST_PG_URL=$url
echo "PostgreSQL for the tests: $url"
cargo test --workspace "$@"
# the router's gRPC suite once more, on a PostgreSQL store (`hotline serve` with
# `--store postgres://…` for the tests that start it as a process)
echo "the gRPC suite on PostgreSQL:"
HOTLINE_TEST_ENGINE=postgres cargo test -p hotline --test grpc "$@"
