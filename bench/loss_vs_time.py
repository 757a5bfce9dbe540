#!/usr/bin/env python3
"""Compares runs by loss against simulated time.

usage: bench/loss_vs_time.py TARGET_LOSS RUN_DIR...

For each run directory (the --out of `fedactor run`), prints the mean client loss at a few
points of simulated time, and the simulated time at which the loss first reaches TARGET_LOSS.
Standard library only.
"""
import json
import sys


def records(run_dir):
    with open(f"{run_dir}/metrics.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    target = float(sys.argv[1])
    for run_dir in sys.argv[2:]:
        rs = records(run_dir)
        summary = json.load(open(f"{run_dir}/summary.json"))
        hit = next((r for r in rs if r["mean_loss"] <= target), None)
        print(f"## {summary['scenario']} ({summary['protocol']})")
        print(f"steps: {len(rs)}, client updates: {summary['clients_trained']}, "
              f"final loss {summary['final_loss']:.4f}, simulated time {summary['sim_time_s']:.1f} s")
        if hit:
            print(f"loss <= {target}: at simulated {hit['sim_time_s']:.1f} s "
                  f"(step {hit.get('round', hit.get('aggregation'))})")
        else:
            print(f"loss <= {target}: not reached")
        print("| step | simulated s | mean loss |")
        print("|---:|---:|---:|")
        step = max(1, len(rs) // 8)
        for r in rs[::step] + ([rs[-1]] if (len(rs) - 1) % step else []):
            n = r.get("round", r.get("aggregation"))
            print(f"| {n} | {r['sim_time_s']:.1f} | {r['mean_loss']:.4f} |")
        print()


if __name__ == "__main__":
    main()
