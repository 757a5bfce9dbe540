#!/bin/sh
# Runs the sampler comparison of docs/selection.md "Evidence": every sampler, sync and async,
# for the given seeds, into OUT/<mode>-<sampler>-s<seed>. usage: bench/selection_runs.sh
# FEDACTOR OUT SEED... (e.g. bench/selection_runs.sh build/fedactor /tmp/sel 3 4 5)
set -e
bin=$1; out=$2; shift 2
mkdir -p "$out"
scenario=$(dirname "$0")/../examples/scenarios/selection_compare.yaml
for seed in "$@"; do
  for mode in sync async; do
    for s in random weighted least_recent oort adaptive; do
      if [ $s = adaptive ]; then
        # sync: the round size adapts; async: the concurrency (starting at async.concurrency)
        set -- --set selection.strategy=random --set selection.adaptive_size.enabled=true
      else
        set -- --set selection.strategy=$s
      fi
      dir=$out/$mode-$s-s$seed
      [ -f "$dir/summary.json" ] && continue
      "$bin" run "$scenario" --out "$dir" --set seed=$seed --set protocol.mode=$mode "$@" \
        > "$dir.log" 2>&1
    done
  done
done
