#!/usr/bin/env bash
# Mutation testing with cargo-mutants over the code whose tests must catch what they
# claim (issue 10): the KPI module, the engine's announcements and routing choices, the
# switchboard, the supervisor's figures, session handling, group commit and the index
# check/rebuild. Not part of the test command: a full run takes hours on 2 cores.
#
#   scripts/mutants.sh                         # every listed file
#   scripts/mutants.sh crates/acd/src/kpi.rs   # just these
#   MUTANTS_JOBS=2 scripts/mutants.sh …        # two builds at once (default 1)
#
# Each missed mutant is either killed by a test or listed, with a one-line reason, in
# scripts/mutants-equivalent.txt (one mutant name per line, as cargo-mutants prints it,
# then "  # why"); those are left out of the run. Prints caught / (caught + missed) per
# file and for all, and fails under 90 %.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
# no debug info in the scratch builds: linking the router's test binaries is most of a
# mutant's time, and a mutant's verdict does not need a backtrace
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
jobs=${MUTANTS_JOBS:-1}

# file → the group it is run in; a group is one cargo-mutants run (one baseline build)
# with the tests of the packages that judge its files
declare -A GROUP=(
  [crates/acd/src/kpi.rs]=kpi
  [crates/acd/src/engine.rs]=engine
  [crates/store/src/durable.rs]=store
  [crates/store/src/check.rs]=store
  [crates/router/src/supervisor.rs]=router
  [crates/router/src/core.rs]=router
  [crates/router/src/switchboard.rs]=router
  [crates/router/src/tokens.rs]=router
)
declare -A TESTS=([kpi]="hotline-acd" [engine]="hotline-acd" [store]="hotline-store"
  [router]="hotline-router")
# The router's files go in two stages: first its own tests (seconds a mutant), then only
# the mutants those missed, again with the root package's gRPC tests as well (a minute a
# mutant: they link the whole binary).
declare -A THEN=([router]="hotline-router hotline")
# the engine is large: only its announcement and routing choices
declare -A ONLY=([engine]='announce|pick_agent|find_call_for|route_call|ring_opened|ring_waiting|Engine::offer|Engine::requeue|timer_fired|qualif|Engine::arrive|enter_queue|insert_line|next_order|arm_call_timer|waiting_slots|make_ready')

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("${!GROUP[@]}")
for f in "${files[@]}"; do
  [ -n "${GROUP[$f]:-}" ] || { echo "$f is not one of the files this script measures"; exit 2; }
done

quote() { printf '%s' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g'; }
excludes=()
equivalent=$(mktemp)
trap 'rm -f "$equivalent"' EXIT
while IFS= read -r line; do
  name="${line%%  #*}"
  [ -n "$name" ] && excludes+=(--exclude-re "$(quote "$name")") && echo "$name" >>"$equivalent"
done < <(grep -v '^\s*\(#\|$\)' scripts/mutants-equivalent.txt || true)

out=target/mutants
mkdir -p "$out"
# run GROUP_DIR PACKAGES FILE… [-- extra args]: one cargo-mutants run
run() {
  local dir=$1 packages=$2; shift 2
  local args=() pk=()
  for p in $packages; do pk+=(--test-package "$p"); done
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--file "$1"); shift; done
  [ $# -gt 0 ] && shift
  rm -rf "$dir"
  nice cargo mutants --workspace "${args[@]}" "${pk[@]}" "$@" \
    --jobs "$jobs" --timeout 180 --output "$dir" || true
}
lines() { grep -c "^$2:" "$1" 2>/dev/null || true; }
# missed, leaving out the listed equivalents (cargo-mutants 27.1 fails to exclude some by
# --exclude-re, e.g. a "delete field" mutant)
missed_lines() { grep -vxFf "$equivalent" "$1" 2>/dev/null | grep -c "^$2:" || true; }

declare -A groups=()
for f in "${files[@]}"; do groups[${GROUP[$f]}]+="$f "; done
caught=0; missed=0; unviable=0
for g in "${!groups[@]}"; do
  read -ra gf <<<"${groups[$g]}"
  echo "== ${gf[*]} (tests of: ${TESTS[$g]})"
  extra=("${excludes[@]}")
  [ -n "${ONLY[$g]:-}" ] && extra+=(--re "${ONLY[$g]}")
  run "$out/$g" "${TESTS[$g]}" "${gf[@]}" -- "${extra[@]}"
  d="$out/$g/mutants.out"
  d2=""
  if [ -n "${THEN[$g]:-}" ] && [ -s "$d/missed.txt" ]; then
    only=()
    while IFS= read -r n; do only+=(--re "^$(quote "$n")\$"); done <"$d/missed.txt"
    echo "   $(wc -l <"$d/missed.txt") missed by ${TESTS[$g]}; again with the tests of ${THEN[$g]}"
    run "$out/$g-then" "${THEN[$g]}" "${gf[@]}" -- "${only[@]}"
    d2="$out/$g-then/mutants.out"
  fi
  for f in "${gf[@]}"; do
    c=$(( $(lines "$d/caught.txt" "$f") + $(lines "$d/timeout.txt" "$f") ))
    m=$(missed_lines "$d/missed.txt" "$f"); u=$(lines "$d/unviable.txt" "$f")
    miss_file="$d/missed.txt"
    if [ -n "$d2" ]; then
      c=$(( c + $(lines "$d2/caught.txt" "$f") + $(lines "$d2/timeout.txt" "$f") ))
      m=$(missed_lines "$d2/missed.txt" "$f"); miss_file="$d2/missed.txt"
    fi
    echo "   $f: caught $c (timeouts counted caught), missed $m, unviable $u"
    grep -vxFf "$equivalent" "$miss_file" 2>/dev/null | grep "^$f:" | sed 's/^/   missed: /' || true
    caught=$((caught + c)); missed=$((missed + m)); unviable=$((unviable + u))
  done
done
total=$((caught + missed))
[ "$total" -gt 0 ] || { echo "no viable mutant ran"; exit 1; }
pct=$(awk -v c="$caught" -v t="$total" 'BEGIN { printf "%.1f", 100 * c / t }')
echo "mutants caught: $caught of $total viable ($pct %), $missed missed, $unviable unviable"
awk -v p="$pct" 'BEGIN { exit !(p >= 90) }'
