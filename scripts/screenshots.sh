#!/usr/bin/env bash
# Render the desktop's main screens to docs/screenshots/*.png under Xvfb, against a live
# demo (router, bot agents, simulated 1000 traffic) on a scratch store.
#
# Needs (Debian): xvfb xauth xdotool imagemagick x11-utils, and a release build
# (cargo build --release). Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/docs/screenshots"
mkdir -p "$out"
display=":97"
port=50097
source scripts/xvfb-demo.sh

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
open_desk 2001
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

open_desk 9000
xdotool key Return
title_has "班长监控"
xdotool mousemove 1229 17 click 1  # dark theme
shot wallboard-dark 6
# the reports tab over the demo's seeded history and its live traffic: a queue's last
# seven days (zh, light), hot spots by district (zh, dark), agents ranked and contacts
# by reason (English, light and dark)
xdotool mousemove 1229 17 click 1  # light again
xdotool mousemove 130 48 click 1   # 统计报表
sleep 2
xdotool mousemove 138 123 click 1  # 近7天
shot reports-intervals 3
xdotool mousemove 212 88 click 1   # 投诉障碍热点
xdotool mousemove 1229 17 click 1  # dark
shot reports-hotspots-dark 3
xdotool mousemove 1229 17 click 1  # light
xdotool mousemove 123 88 click 1   # 坐席绩效
sleep 2
xdotool mousemove 1160 17 click 1  # English
shot reports-agents-en 3
xdotool mousemove 1160 17 click 1  # 中文
xdotool mousemove 301 88 click 1   # 来电原因
sleep 2
xdotool mousemove 1160 17 click 1  # English
xdotool mousemove 1229 17 click 1  # dark
shot reports-reasons-en-dark 3
kill "$desk"
sleep 1

# the back office: the repair crew's worklist, a ticket chosen, then in English
open_desk 8002
xdotool key Return
title_has "后台工单"
shot worklist 4
xdotool mousemove 400 172 click 1  # the first ticket on the list
shot worklist-ticket 1
xdotool mousemove 1175 17 click 1  # English
shot worklist-en 1
kill "$desk"
sleep 1

# a 回访 call-back at seat 2002: inbound offers are turned down (F4, then ready again)
# until a call-back task rings; it is accepted, the customer's line shown, the outcome
# asked for at wrap-up, then the same in English
open_desk 2002
xdotool key Return
title_has "未就绪"
xdotool key F1
name() { xdotool getwindowname "$win"; }
# up to five minutes: most tasks go to their owners (the bots) first, and an idle bot
# may take one from the queue before this seat does
for _ in $(seq 1 600); do
  sleep 0.5
  if name | grep -q "未就绪"; then xdotool key F1; continue; fi
  name | grep -q "振铃" || continue
  if name | grep -q "回访振铃"; then
    shot call-back-offer 0.5
    # still the call-back ringing when the picture was taken: keep it
    name | grep -q "回访振铃" && break
    continue
  fi
  xdotool key F4 # an inbound call: turned down, it goes back to the head of its queue
done
name | grep -q "回访振铃" || { echo "no call-back rang at seat 2002" >&2; exit 1; }
xdotool key F3
title_has "通话中"
shot call-back-on-call 10
xdotool key F6
title_has "话后整理"
shot call-back-wrap-up 1
xdotool mousemove 1175 17 click 1  # English
shot call-back-en 1
