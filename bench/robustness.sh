#!/bin/sh
# The table of docs/robustness.md: Fashion-MNIST test accuracy after 20 rounds under scaling
# attackers (examples/scenarios/fmnist_attack_scale.yaml), FedAvg against each defence, for
# three attacker sets (attack.seed). Usage: bench/robustness.sh [FEDACTOR] [OUT_DIR]
set -eu
bin=${1:-build/fedactor}
out=${2:-/tmp/robustness}
scenario=examples/scenarios/fmnist_attack_scale.yaml
mkdir -p "$out"
run() {  # name fraction seed --set...
  name=$1 fraction=$2 seed=$3
  shift 3
  dir="$out/${name}_${fraction}_${seed}"
  nice "$bin" run "$scenario" --set attack.fraction="$fraction" --set attack.seed="$seed" "$@" \
    --out "$dir" --overwrite --quiet >/dev/null
  acc=$(sed -n 's/.*"test_accuracy": \([0-9.]*\).*/\1/p' "$dir/summary.json")
  echo "$name $fraction $seed $acc"
}
for seed in 5 6 7; do
  run fedavg 0 "$seed"
  if [ "$seed" = 5 ]; then  # the defences without attackers (the seed changes nothing then)
    run clip 0 "$seed" --set robust.norm_bound.mode=clip
    run median 0 "$seed" --set robust.rule=median
    run trimmed_mean 0 "$seed" --set robust.rule=trimmed_mean
    run krum 0 "$seed" --set robust.rule=krum
  fi
  run trimmed_mean_0.45 0.3 "$seed" --set robust.rule=trimmed_mean --set robust.trim=0.45
  for fraction in 0.1 0.3; do
    run fedavg "$fraction" "$seed"
    run clip "$fraction" "$seed" --set robust.norm_bound.mode=clip
    run median "$fraction" "$seed" --set robust.rule=median
    run trimmed_mean "$fraction" "$seed" --set robust.rule=trimmed_mean
    run krum "$fraction" "$seed" --set robust.rule=krum
  done
done
