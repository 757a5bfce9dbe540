#!/usr/bin/env bash
# Runs the kill-and-rejoin multi-process test N times under `ctest -j2`-like load: each
# iteration runs it beside a second ctest job that keeps the other node/host tests (and their
# processes) busy, as a full `ctest -j2` does. Prints one line per iteration and a total; exit
# status 1 if any iteration failed. Output of failed iterations is kept in $OUT (default
# /tmp/kill_rejoin.<pid>).
#
#   tests/stress/kill_rejoin.sh [N] [BUILD_DIR]      (N defaults to 30, BUILD_DIR to build)
set -u
n=${1:-30}
build=${2:-build}
out=${OUT:-/tmp/kill_rejoin.$$}
mkdir -p "$out"
cd "$build" || exit 2
test_name='an edge killed mid-run is rerouted around, rejoins, and the model is unchanged'
pass=0
fail=0
for i in $(seq 1 "$n"); do
  # The load: every other multi-process / in-process node test, one at a time (ctest -j2's
  # second slot), restarted until the iteration ends.
  setsid bash -c "while :; do ctest -R 'node|host|federation|failover|registrar' \
        -E 'killed mid-run' --timeout 300 >/dev/null 2>&1; done" &
  load=$!
  start=$(date +%s)
  if FEDACTOR_NODE_TEST_LOG="$out/nodes$i.log" \
      ctest -R "^${test_name}\$" --timeout 300 --output-on-failure >"$out/run$i.log" 2>&1; then
    pass=$((pass + 1)); verdict=pass; rm -f "$out/run$i.log"
  else
    fail=$((fail + 1)); verdict=FAIL
  fi
  # How the killed edge's client host came back: it rejoined (it had its first join's answer),
  # or it joined the new edge first (the old edge died before that answer reached the host:
  # the race behind the old flake).
  if [ "$verdict" = FAIL ]; then
    how="see $out/run$i.log and $out/nodes$i.log"
  elif grep -q 'clients 500-999\] rejoined the edge' "$out/nodes$i.log" 2>/dev/null; then
    how="the host rejoined"
    rm -f "$out/nodes$i.log"
  else
    how="the host's first join went unanswered; it joined the new edge"
    rm -f "$out/nodes$i.log"
  fi
  kill -- -"$load" 2>/dev/null  # the loop, its ctest and every process the tests started
  wait "$load" 2>/dev/null
  echo "iteration $i: $verdict ($(( $(date +%s) - start )) s; $how)"
done
if [ "$fail" -eq 0 ]; then
  echo "kill-and-rejoin: $pass of $n passed"
else
  echo "kill-and-rejoin: $pass of $n passed, $fail failed (logs in $out)"
fi
[ "$fail" -eq 0 ]
