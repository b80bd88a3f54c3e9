#!/usr/bin/env bash
# Memory of the desktop through a stretch of live traffic: a demo (router, bot agents,
# simulated 1000 calls) under Xvfb, one agent desk (2001) that goes ready every 20 s and
# lets offers ring (each one a screen pop), and one supervisor wallboard (9000). Prints
# both desks' resident memory once a minute.
#
# Needs (Debian): xvfb xauth xdotool; a release build. Usage: scripts/desk-soak.sh MINUTES
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-60}"
hotline="$PWD/target/release/hotline"
work="$(mktemp -d)"
display=":95"
port=50095
router="http://127.0.0.1:$port"
cleanup() {
  # the demo and the desks run in subshells: stop them by what they are
  pkill -f "hotline desk --router $router" 2>/dev/null || true
  pkill -f "hotline demo --listen 127.0.0.1:$port" 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
export DISPLAY="$display"
sleep 1
(cd "$work" && "$hotline" demo --listen "127.0.0.1:$port" --no-desktop --calls-per-hour 3600 >demo.log 2>&1) &
for _ in $(seq 1 120); do grep -q "router on" "$work/demo.log" 2>/dev/null && break; sleep 0.5; done
grep -q "router on" "$work/demo.log" || { echo "the demo did not start:" >&2; cat "$work/demo.log" >&2; exit 1; }
open_desk() { # work number → pid in $desk, window in $win; logs in
  "$hotline" desk --router "$router" --agent "$1" >"$work/desk-$1.log" 2>&1 &
  desk=$!
  win="$(xdotool search --sync --pid "$desk" | head -1)"
  sleep 1
  xdotool windowfocus --sync "$win"
  xdotool mousemove 640 296 click 1
  sleep 0.3
  xdotool type --delay 30 "hotline-demo"
  xdotool key Return
  sleep 2
}
open_desk 9000; board=$desk
open_desk 2001; agent=$desk; agent_win=$win
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
for m in $(seq 1 "$minutes"); do
  for _ in 1 2 3; do
    xdotool windowfocus --sync "$agent_win" key F1
    sleep 20
  done
  echo "minute $m: agent desk $(rss "$agent") MB, wallboard $(rss "$board") MB"
done
