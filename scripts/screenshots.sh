#!/usr/bin/env bash
# Render the desktop's main screens to docs/screenshots/*.png under Xvfb, against a live
# demo (router, bot agents, simulated 1000 traffic) on a scratch store.
#
# Needs (Debian): xvfb xauth xdotool imagemagick x11-utils, and a release build
# (cargo build --release). Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
hotline="$PWD/target/release/hotline"
out="$PWD/docs/screenshots"
mkdir -p "$out"
work="$(mktemp -d)"
display=":97"
port=50097
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

shot() { sleep "${2:-1}"; import -window root "$out/$1.png"; echo "docs/screenshots/$1.png"; }
# wait until the desk window's title contains $1 (the title carries the agent's state;
# xdotool's own --name match does not handle Chinese, so compare the name here)
title_has() {
  for _ in $(seq 1 240); do
    xdotool getwindowname "$win" 2>/dev/null | grep -q "$1" && return 0
    sleep 0.5
  done
  echo "timed out waiting for the window title to say $1" >&2
  return 1
}
login() { # work number
  "$hotline" desk --router "$router" --agent "$1" >"$work/desk-$1.log" 2>&1 &
  desk=$!
  win="$(xdotool search --sync --pid "$desk" | head -1)"
  sleep 1
  xdotool windowfocus --sync "$win"
}
type_password() {
  xdotool mousemove 640 296 click 1
  sleep 0.3
  xdotool type --delay 30 "hotline-demo"
}

login 2001
type_password
shot login
xdotool key Return
title_has "未就绪"
shot agent-not-ready
xdotool key F1
title_has "振铃"
shot agent-offer 0.5
xdotool key F3
title_has "通话中"
shot agent-on-call 3
xdotool key F6
title_has "话后整理"
shot agent-wrap-up
kill "$desk"
sleep 1

login 9000
type_password
xdotool key Return
title_has "班长监控"
xdotool mousemove 1229 17 click 1  # dark theme
shot wallboard-dark 6
