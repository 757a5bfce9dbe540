#!/bin/sh
# Runs the routing comparison of docs/selection.md "Evidence": region and range routing, sync
# (regions_compare.yaml) and async (regions_compare_async.yaml), for the given seeds, into
# OUT/<mode>-<routing>-s<seed>. usage: bench/regions_runs.sh FEDACTOR OUT SEED...
set -e
bin=$1; out=$2; shift 2
mkdir -p "$out"
dir0=$(dirname "$0")/../examples/scenarios
for seed in "$@"; do
  for mode in sync async; do
    scenario=$dir0/regions_compare.yaml
    [ $mode = async ] && scenario=$dir0/regions_compare_async.yaml
    for routing in region range; do
      dir=$out/$mode-$routing-s$seed
      [ -f "$dir/summary.json" ] && continue
      "$bin" run "$scenario" --out "$dir" --set seed=$seed --set topology.routing=$routing \
        > "$dir.log" 2>&1
    done
  done
done
