#!/usr/bin/env bash
# Render the wallboard with an area outage to docs/screenshots/wallboard-incident.png:
# a demo whose one 小区 calls the fault desk ten times a minute from the start, the
# surge's alarm on the red band, the incident the router declares past the stricter
# level on the amber band (restore time, linked tickets, callers waiting to be told).
#
# Needs what screenshots.sh needs. Usage: scripts/screenshot-incident.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/docs/screenshots"
mkdir -p "$out"
display=":96"
port=50096
demo_args="--outage 0,20,600"
source scripts/xvfb-demo.sh

open_desk 9000
xdotool key Return
# the alarm, then the incident: the figures line of the demo says when callers hear it
for _ in $(seq 1 360); do
  grep -q "heard the incident's notice, [1-9]" "$work/demo.log" && break
  sleep 0.5
done
grep "outage:" "$work/demo.log" | tail -1
sleep 8
import -window root "$out/wallboard-incident.png"
echo "docs/screenshots/wallboard-incident.png"
