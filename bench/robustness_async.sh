#!/bin/sh
# The async table of docs/robustness.md: Fashion-MNIST test accuracy after 20 FedBuff server
# steps under scaling attackers, plain FedBuff against each defence the async server supports.
# The sync setup of bench/robustness.sh (examples/scenarios/fmnist_attack_scale.yaml) run as
# async FedBuff in forward mode: simulated clock, 20 clients training at once, a server step
# every 20 updates (so each rule sees 20 updates, as in sync), 20 steps = 400 client updates.
# Usage: bench/robustness_async.sh [FEDACTOR] [OUT_DIR] [SEEDS]
set -eu
bin=${1:-build/fedactor}
out=${2:-/tmp/robustness_async}
seeds=${3:-5 6 7}
scenario=examples/scenarios/fmnist_attack_scale.yaml
mkdir -p "$out"
run() {  # name fraction seed --set...
  name=$1 fraction=$2 seed=$3
  shift 3
  dir="$out/${name}_${fraction}_${seed}"
  # A run whose model broke stops stepping: once every update is refused (out of range) the
  # buffer never fills, and the run ends as stalled with exit 1 (docs/async.md). Such a run,
  # or one cut off after `limit` seconds, is reported with the last step it reached.
  if ! timeout "${limit:-600}" nice -n 10 "$bin" run "$scenario" --set protocol.mode=async \
    --set clock=simulated --set async.concurrency=20 --set async.buffer_size=20 \
    --set async.aggregations=20 --set async.edge_mode=forward \
    --set attack.fraction="$fraction" --set attack.seed="$seed" "$@" \
    --out "$dir" --overwrite --quiet >/dev/null; then
    steps=$(wc -l <"$dir/metrics.jsonl")
    echo "$name $fraction $seed stuck-after-step-$steps"
    return
  fi
  acc=$(sed -n 's/.*"test_accuracy": \([0-9.]*\).*/\1/p' "$dir/summary.json")
  echo "$name $fraction $seed $acc"
}
for seed in $seeds; do
  if [ "$seed" = 5 ]; then  # without attackers (the seed changes nothing then)
    run fedbuff 0 "$seed"
    run clip 0 "$seed" --set robust.norm_bound.mode=clip
    run median 0 "$seed" --set robust.rule=median
    run trimmed_mean 0 "$seed" --set robust.rule=trimmed_mean
    run krum 0 "$seed" --set robust.rule=krum
  fi
  for fraction in 0.1 0.3; do
    run fedbuff "$fraction" "$seed"
    run clip "$fraction" "$seed" --set robust.norm_bound.mode=clip
    run median "$fraction" "$seed" --set robust.rule=median
    run trimmed_mean "$fraction" "$seed" --set robust.rule=trimmed_mean
    run krum "$fraction" "$seed" --set robust.rule=krum
  done
done
