#!/usr/bin/env bash
# The like-for-like reference for `hotline bench store --engine postgres`: pgbench from
# 64 clients writing exactly the rows the store's durable writes commit (half the
# transactions an interaction with its agent's row, half a ticket, each with a record of
# the seeder's as jsonb, on the schema `hotline store migrate` makes), beside the bench's
# own reference (one small row per transaction), twice each, on the same server.
# Usage: bench/pgbench-store-rows.sh [postgres://user@host:port]  (default 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
server="${1:-postgres://postgres@127.0.0.1:5432}"
db="hotline_rows_$$"
work="$(mktemp -d)"
trap 'psql -qAtX "$server/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null; rm -rf "$work"' EXIT
cargo build --release --quiet
hotline="${CARGO_TARGET_DIR:-target}/release/hotline"
psql -qAtX "$server/postgres" -c "CREATE DATABASE $db"
"$hotline" store migrate --store "$server/$db" >/dev/null
# one interaction and one ticket as the seeder makes them
"$hotline" seed --customers 50 --store "$work/sample" >/dev/null
"$hotline" store export --store "$work/sample" --kind interactions --out "$work/i.jsonl" >/dev/null
"$hotline" store export --store "$work/sample" --kind tickets --out "$work/t.jsonl" >/dev/null
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
esc = lambda s: s.replace("'", "''")
i = esc(open(f"{work}/i.jsonl").readline().strip())
t = esc(open(f"{work}/t.jsonl").readline().strip())
open(f"{work}/interaction.sql", "w").write(f"""\\set c random(1, 1000000)
BEGIN;
INSERT INTO interactions (id, call_id, customer, arrived, queue, reason, disposition, first_agent, fcr_claimed, fcr_verified, record, legs) VALUES (nextval('interaction_ids'), :c, :c, :c, 'fault', 'fault.broadband', 'answered', '1001', true, NULL, '{i}'::jsonb, '[]'::jsonb);
INSERT INTO interaction_agents (agent, arrived, interaction) VALUES ('1001', :c, currval('interaction_ids'));
COMMIT;
""")
open(f"{work}/ticket.sql", "w").write(f"""\\set c random(1, 1000000)
INSERT INTO tickets (id, customer, kind, subcategory, status, open, priority, owner, back_office, created, deadline, history_len, record) VALUES (nextval('ticket_ids'), :c, 'fault', 'broadband-down', 'new', true, 'normal', '1001', NULL, :c, :c, 1, '{t}'::jsonb);
""")
open(f"{work}/one.sql", "w").write("""\\set c random(1, 1000000)
INSERT INTO reference_write (customer, at, note) VALUES (:c, :c, 'durable write reference');
""")
PY
psql -qAtX "$server/$db" -c "CREATE TABLE reference_write (id bigserial PRIMARY KEY, customer bigint NOT NULL, at bigint NOT NULL, note text NOT NULL)"
tps() { pgbench -n -c 64 -j 2 -T 10 "$@" "$server/$db" 2>/dev/null | awk '/^tps/ { print $3 }'; }
for run in 1 2; do
  one="$(tps -f "$work/one.sql")"
  ours="$(tps -f "$work/interaction.sql@1" -f "$work/ticket.sql@1")"
  python3 -c "print(f'run $run: one-row inserts {float(\"$one\"):.0f}/s, the store\'s rows {float(\"$ours\"):.0f}/s ({float(\"$ours\") / float(\"$one\"):.2f} of one-row)')"
done
