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
display=":95"
port=50095
source scripts/xvfb-demo.sh
log_in() { open_desk "$1"; xdotool key Return; sleep 2; }
log_in 9000; board=$desk
log_in 2001; agent=$desk; agent_win=$win
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
for m in $(seq 1 "$minutes"); do
  for _ in 1 2 3; do
    xdotool windowfocus --sync "$agent_win" key F1
    sleep 20
  done
  echo "minute $m: agent desk $(rss "$agent") MB, wallboard $(rss "$board") MB"
done
