#!/usr/bin/env bash
# Runs the whole test suite N times in a row as `make test` does (ctest -j2, the Makefile's
# timeout), on an existing build, and stops at the first red run. One line per run (wall time,
# tests passed) and a total; exit status 1 if a run failed. A failed run's ctest output is kept
# in $OUT (default /tmp/full_suite.<pid>), with the node tests' process output.
#
#   tests/stress/full_suite.sh [N] [BUILD_DIR]      (N defaults to 10, BUILD_DIR to build)
set -u
n=${1:-10}
build=${2:-build}
out=${OUT:-/tmp/full_suite.$$}
mkdir -p "$out"
cd "$build" || exit 2
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if FEDACTOR_NODE_TEST_LOG="$out/nodes$i.log" \
      ctest --output-on-failure -j 2 --timeout 600 >"$out/run$i.log" 2>&1; then
    verdict=pass
  else
    verdict=FAIL
  fi
  summary=$(grep -E '^[0-9]+% tests passed' "$out/run$i.log" | tail -1)
  echo "run $i/$n: $verdict in $(( $(date +%s) - start )) s ($summary) $(date -u +%H:%M:%S)"
  if [ "$verdict" = FAIL ]; then
    grep -E '^\s+[0-9]+ - ' "$out/run$i.log" | sed 's/^/  failed: /'
    echo "see $out/run$i.log"
    exit 1
  fi
  rm -f "$out/run$i.log" "$out/nodes$i.log"
done
echo "all $n runs passed"
