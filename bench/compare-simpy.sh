#!/usr/bin/env bash
# Run the same M/M/500+M model (480 Erlangs, AHT 240 s, patience 120 s) in SimPy and in
# the hotline simulator on this machine, one after the other, and print both speeds and
# the ratio. Usage: bench/compare-simpy.sh [CALLS]   (default 1000000 measured calls)
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-1000000}"
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet "simpy==4.1.2"
fi
cargo build --release --quiet
ours="$(target/release/hotline bench sim --calls "$calls" --json)"
theirs="$(bench/.venv/bin/python bench/simpy_mmnm.py --calls "$calls" --json)"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'':>10} {'calls':>10} {'wall s':>8} {'calls/s':>12} {'SL':>7} {'ASA s':>7} {'abandon':>8}")
for name, r in (("hotline", ours), (f"SimPy {theirs['simpy']}", theirs)):
    print(f"{name:>10} {r['calls_simulated']:>10} {r['wall_seconds']:>8.2f} {r['calls_per_second']:>12.0f} "
          f"{r['service_level']:>7.4f} {r['asa_seconds']:>7.3f} {r['p_abandon']:>8.4f}")
a = ours["erlang_a"]
print(f"{'Erlang A':>10} {'':>10} {'':>8} {'':>12} {a['service_level']:>7.4f} {a['asa_seconds']:>7.3f} {a['p_abandon']:>8.4f}")
print(f"hotline / SimPy speed: {ours['calls_per_second'] / theirs['calls_per_second']:.1f}×")
PY
