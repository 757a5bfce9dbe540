#!/usr/bin/env python3
"""Workload W1 across processes on 127.0.0.1 against one process (docs/benchmarks.md).

Starts `fedactor node server`, E edge nodes and (optionally) one client host per edge,
runs W1 (examples/scenarios/tutorial_sync.yaml, 1,000 clients per round) and reports
updates/s (clients trained per second of round wall time, as summary.json computes it) and
the bytes sent between the processes per second of round time (the kernel's bytes_sent of
every TCP connection to a node's listening port, from `ss -tin` sampled every 50 ms; bytes
sent after a connection's last sample, at shutdown, are missed), next to `fedactor run` of
the same scenario. Every process started is killed at the end.

With --tree the nodes form the three-level tree of issue 15: the server, E regional edges
(default 2), two site edges below each (`--parent`) and one client host per site edge
(4 client hosts for E = 2), the population split evenly among the hosts.

usage: bench/node_w1.py [--binary build/fedactor] [--edges 2] [--hosts | --tree] [--rounds 10]
                        [--clients-per-round 1000] [--node-flag=--trainers=1 ...]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "examples", "scenarios", "tutorial_sync.yaml")


def wait_port(proc, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on .*:(\d+)", line)
        if m:
            return int(m.group(1))
    raise RuntimeError("no 'listening on' line from %s" % proc.args)


def sample_sockets(ports, sent):
    """Updates sent[(local, peer)] with the bytes_sent of connections touching `ports`."""
    out = subprocess.run(["ss", "-tin", "state", "established"], capture_output=True,
                         text=True).stdout.splitlines()
    key = None
    for line in out:
        if not line.startswith((" ", "\t")):
            parts = line.split()
            key = None
            if len(parts) >= 4 and parts[0].isdigit():  # Recv-Q Send-Q Local Peer
                local, peer = parts[2], parts[3]
                if int(local.rsplit(":", 1)[1]) in ports or int(peer.rsplit(":", 1)[1]) in ports:
                    key = (local, peer)
        elif key:
            m = re.search(r"bytes_sent:(\d+)", line)
            if m:
                sent[key] = max(sent.get(key, 0), int(m.group(1)))


def summary(out_dir):
    with open(os.path.join(out_dir, "summary.json")) as f:
        s = json.load(f)
    with open(os.path.join(out_dir, "metrics.jsonl")) as f:
        rounds = [json.loads(line) for line in f]
    return s, rounds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "fedactor"))
    ap.add_argument("--edges", type=int, default=2)
    ap.add_argument("--hosts", action="store_true", help="one client host per edge")
    ap.add_argument("--tree", action="store_true",
                    help="two site edges (--parent) below each edge, one client host per site")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--clients-per-round", type=int, default=1000)
    ap.add_argument("--node-flag", action="append", default=[],
                    help="extra flag for edge and client-host nodes, e.g. --node-flag=--trainers=1")
    args = ap.parse_args()
    node_flags = [x for f in args.node_flag for x in f.split("=", 1)]
    sets = ["--set", "topology.edges=%d" % args.edges,
            "--set", "selection.clients_per_round=%d" % args.clients_per_round,
            "--set", "protocol.rounds=%d" % args.rounds]
    tmp = tempfile.mkdtemp(prefix="fedactor_node_w1_")
    procs = []
    try:
        # One process.
        ref = os.path.join(tmp, "ref")
        subprocess.run([args.binary, "run", SCENARIO, "--quiet", "--out", ref] + sets,
                       check=True, stdout=subprocess.DEVNULL)
        ref_sum, _ = summary(ref)

        # Across processes.
        dist = os.path.join(tmp, "dist")
        logs = open(os.path.join(tmp, "nodes.log"), "w")

        def start(cmd):
            p = subprocess.Popen([args.binary] + cmd, stdout=subprocess.PIPE, stderr=logs,
                                 text=True)
            procs.append(p)
            return p

        server = start(["node", "server", "--listen", "127.0.0.1:0", SCENARIO, "--quiet",
                        "--out", dist] + sets)
        sp = wait_port(server)
        ports = {sp}
        edges = []
        for e in range(args.edges):
            cmd = ["node", "edge", "--server", "127.0.0.1:%d" % sp, "--listen", "127.0.0.1:0",
                   "--id", str(e)] + node_flags
            if args.hosts:
                cmd += ["--wait-hosts", "1"]
            if args.tree:
                cmd += ["--wait-hosts", "2"]
            edges.append(start(cmd))
        edge_ports = [wait_port(edge) for edge in edges]
        ports.update(edge_ports)
        n = 1000  # population of tutorial_sync.yaml
        host_edges = edge_ports if args.hosts else []
        if args.tree:
            sites = []
            for e, ep in enumerate(edge_ports):
                for k in range(2):
                    sites.append(start(["node", "edge", "--parent", "127.0.0.1:%d" % ep,
                                        "--listen", "127.0.0.1:0", "--id", str(10 * (e + 1) + k),
                                        "--wait-hosts", "1"] + node_flags))
            host_edges = [wait_port(site) for site in sites]
            ports.update(host_edges)
        for h, ep in enumerate(host_edges):
            lo, hi = n * h // len(host_edges), n * (h + 1) // len(host_edges) - 1
            start(["node", "clients", "--edge", "127.0.0.1:%d" % ep, "--ids",
                   "%d-%d" % (lo, hi)] + node_flags)
        sent = {}
        while server.poll() is None:
            sample_sockets(ports, sent)
            time.sleep(0.05)
        if server.returncode != 0:
            raise RuntimeError("server failed, see %s" % os.path.join(tmp, "nodes.log"))
        dist_sum, rounds = summary(dist)
        round_s = sum(r["wall_s"] for r in rounds)
        total = sum(sent.values())
        procs_n = len(procs)
        print("W1 %d clients/round, %d rounds, %d edges%s%s" %
              (args.clients_per_round, args.rounds, args.edges,
               ", %d site edges" % (2 * args.edges) if args.tree else "",
               ", %d client hosts" % len(host_edges) if host_edges else ""))
        print("  one process:    %8.0f updates/s" % ref_sum["mean_clients_per_s"])
        print("  %2d processes:   %8.0f updates/s, %.1f MB/s between processes "
              "(%.1f MB in all, %.1f KB per update), same model: %s" %
              (procs_n, dist_sum["mean_clients_per_s"], total / round_s / 1e6, total / 1e6,
               total / dist_sum["clients_trained"] / 1e3,
               dist_sum["model_sha256"] == ref_sum["model_sha256"]))
        print("  s/round: " + " ".join("%.3f" % r["wall_s"] for r in rounds))
        if "net_bytes_down" in dist_sum:
            print("  server <-> edges, measured by its guard: %d bytes down %s, %d up %s; "
                  "model_bytes_down %d (one process: %d)" %
                  (dist_sum["net_bytes_down"], dist_sum.get("net_bytes_down_by_message", {}),
                   dist_sum["net_bytes_up"], dist_sum.get("net_bytes_up_by_message", {}),
                   dist_sum.get("model_bytes_down", 0), ref_sum.get("model_bytes_down", 0)))
        logs.close()
        shutil.rmtree(tmp)  # kept (with nodes.log) when the run failed
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
