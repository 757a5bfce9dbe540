#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for SECONDS each, from the committed seed corpus
# (fuzz/corpus/NAME, read only) plus a working corpus in BUILD/corpus/NAME (what the fuzzer
# finds is kept there between runs). A crash, leak, sanitizer report or timeout stops that
# target, leaves its input in BUILD/crashes/ and makes this script exit 1 after the others
# ran. Prints one line per target: its executions and time.
#
#   fuzz/run.sh BUILD SECONDS [NAME...]     (make fuzz: fuzz/run.sh build-fuzz $FUZZ_SECONDS)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD SECONDS [NAME...]}
seconds=${2:?usage: fuzz/run.sh BUILD SECONDS [NAME...]}
shift 2
if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < "$build/fuzz_targets.txt"; fi
mkdir -p "$build/crashes" "$build/logs"
failed=()
printf '%-20s %12s %8s %s\n' target execs seconds result
for name in "${names[@]}"; do
  mkdir -p "$build/corpus/$name"
  log="$build/logs/$name.log"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  "$build/fuzz/fuzz_$name" "$build/corpus/$name" "${seeds[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  took=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc, $log)"
    failed+=("$name")
  fi
  printf '%-20s %12s %8s %s\n' "$name" "${execs:-?}" "${took:-?}" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/crashes/)" >&2
  for name in "${failed[@]}"; do
    grep -m1 -E 'ERROR: |runtime error|fuzz target:|==[0-9]+==' "$build/logs/$name.log" >&2
  done
  exit 1
fi
