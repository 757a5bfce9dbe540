#!/usr/bin/env python3
"""Tables of docs/selection.md "Evidence" from the run directories of bench/selection_runs.sh
and bench/regions_runs.sh.

usage: bench/selection_evidence.py samplers DIR TARGET...   (e.g. samplers /tmp/sel 0.70 0.75)
       bench/selection_evidence.py routing DIR              (e.g. routing /tmp/reg)

samplers: for each <mode>-<sampler>, over the seeds found (<mode>-<sampler>-s<seed>): the mean
simulated time to each target test accuracy (the first evaluation at or above it; "k/n" when
only k of the n seeds reached it, the mean then over those k), the mean test accuracy of the
last evaluation and the mean simulated duration.
routing: for each <mode>-<routing>: the mean simulated time per round / step, and the spread
of the tasks over the live edges: per record max/mean and coefficient of variation (standard
deviation / mean) of the edge_load tasks over every edge (none is lost in these runs), averaged over the records,
over all of them and over those from the region_down event on; rerouted tasks per run.
Standard library only.
"""
import glob
import json
import os
import re
import statistics
import sys


def records(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def groups(root):
    out = {}
    for d in sorted(glob.glob(os.path.join(root, "*-s*"))):
        m = re.match(r"(.*)-s(\d+)$", os.path.basename(d))
        if m and os.path.exists(os.path.join(d, "summary.json")):
            summary = json.load(open(os.path.join(d, "summary.json")))
            if "model_sha256" in summary:  # a finished run
                out.setdefault(m.group(1), []).append((int(m.group(2)), d, summary))
    return out


def samplers(root, targets):
    order = ["random", "weighted", "least_recent", "oort", "adaptive"]
    g = groups(root)
    head = "| mode | sampler | seeds | " + " | ".join(
        f"time to {t:.0%}" for t in targets) + " | accuracy at the end | simulated duration |"
    print(head)
    print("|---|---|---|" + "---:|" * (len(targets) + 2))
    for mode in ("sync", "async"):
        for s in order:
            runs = g.get(f"{mode}-{s}")
            if not runs:
                continue
            cells = []
            for t in targets:
                hits = []
                for _, d, _ in runs:
                    hit = next((r for r in records(d) if r.get("test_accuracy", -1) >= t), None)
                    if hit:
                        hits.append(hit["sim_time_s"])
                cell = f"{statistics.mean(hits):.1f} s" if hits else "not reached"
                if hits and len(hits) < len(runs):
                    cell += f" ({len(hits)}/{len(runs)})"
                cells.append(cell)
            finals = [[r for r in records(d) if "test_accuracy" in r][-1]["test_accuracy"]
                      for _, d, _ in runs]
            sims = [summ["sim_time_s"] for _, _, summ in runs]
            name = "adaptive size" if s == "adaptive" else s
            print(f"| {mode} | {name} | {len(runs)} | " + " | ".join(cells) +
                  f" | {statistics.mean(finals):.3f} | {statistics.mean(sims):.1f} s |")


def spread(tasks):
    mean = statistics.mean(tasks)
    if mean == 0:
        return None
    return max(tasks) / mean, statistics.pstdev(tasks) / mean


def routing(root):
    g = groups(root)
    print("| mode | routing | seeds | mean simulated time per round / step | "
          "edge tasks max/mean | edge tasks CV | after region_down: max/mean, CV | "
          "rerouted tasks |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for mode in ("sync", "async"):
        for routing_kind in ("region", "range"):
            runs = g.get(f"{mode}-{routing_kind}")
            if not runs:
                continue
            per_step, ratio, cv, ratio_after, cv_after, rerouted = [], [], [], [], [], []
            for _, d, summ in runs:
                rs = records(d)
                per_step.append(summ["sim_time_s"] / len(rs))
                down = next((i for i, r in enumerate(rs)
                             if any(e.get("kind") == "region_down" for e in r.get("events", []))),
                            None)
                for i, r in enumerate(rs):
                    s = spread([e["tasks"] for e in r["edge_load"]])
                    if s is None:
                        continue
                    ratio.append(s[0])
                    cv.append(s[1])
                    if down is not None and i >= down:
                        ratio_after.append(s[0])
                        cv_after.append(s[1])
                rerouted.append(sum(r.get("rerouted", 0) for r in rs))
            after = (f"{statistics.mean(ratio_after):.2f}, {statistics.mean(cv_after):.2f}"
                     if ratio_after else "n/a")
            print(f"| {mode} | {routing_kind} | {len(runs)} | {statistics.mean(per_step):.3f} s | "
                  f"{statistics.mean(ratio):.2f} | {statistics.mean(cv):.2f} | {after} | "
                  f"{statistics.mean(rerouted):.0f} |")


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "samplers":
        samplers(sys.argv[2], [float(t) for t in sys.argv[3:]])
    elif len(sys.argv) == 3 and sys.argv[1] == "routing":
        routing(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
