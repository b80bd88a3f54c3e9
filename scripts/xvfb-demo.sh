# Sourced by screenshots.sh, screenshot-incident.sh and desk-soak.sh (not run on its
# own): with `display` and `port` set (and `demo_args`, more flags for the demo), start
# Xvfb and a demo (router, bot agents, 3,600 simulated calls an hour) on a scratch store, stop both on exit, and offer `open_desk N` — a desk for work number
# N with its password typed in (press Return to log in); it sets `desk` (pid) and `win`.
hotline="$PWD/target/release/hotline"
work="$(mktemp -d)"
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
(cd "$work" && "$hotline" demo --listen "127.0.0.1:$port" --no-desktop --calls-per-hour 3600 ${demo_args:-} >demo.log 2>&1) &
for _ in $(seq 1 120); do grep -q "router on" "$work/demo.log" 2>/dev/null && break; sleep 0.5; done
grep -q "router on" "$work/demo.log" || { echo "the demo did not start:" >&2; cat "$work/demo.log" >&2; exit 1; }

open_desk() {
  "$hotline" desk --router "$router" --agent "$1" >"$work/desk-$1.log" 2>&1 &
  desk=$!
  win="$(xdotool search --sync --pid "$desk" | head -1)"
  sleep 1
  xdotool windowfocus --sync "$win"
  xdotool mousemove 640 296 click 1 # the password field of the login form
  sleep 0.3
  xdotool type --delay 30 "hotline-demo"
}
