#pragma once

// `fedactor bench --nodes E [--hosts-per-edge K]`: workload W1 across processes on 127.0.0.1
// beside the same run in one process (docs/benchmarks.md, "W1 across processes"). Runs
// `fedactor run` of the scenario, then starts `fedactor node server`, E edge nodes and K
// client hosts per edge (subprocesses of this executable, free ports, their stderr in one
// log), waits for the run with a bound, kills whatever is left, and reports updates/s of both,
// their ratio, both model digests (equal, or the command fails), the seconds per round, the
// server's peak RSS and the bytes between the processes per update, from the nodes' own
// counters (runtime/host/byte_counters.hpp: the lines every guarded node logs at the end).

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

struct node_bench_options {
  scenario sc;                        // validated; topology.edges is the number of edge nodes
  uint32_t hosts_per_edge = 0;        // 0: the edges train their clients themselves
  std::string binary;                 // this executable
  uint32_t node_threads = 0;          // --threads of every node; 0: the nodes' default
  std::string node_polling;           // --idle-polling of every node; empty: the nodes' default
  std::chrono::seconds timeout{600};  // for each of the two runs
  bool json = false;
};

// The bytes of one "bytes with the PEERS: S bytes sent (...), R received (...)" log line:
// S + R, or 0 when the line is not one (byte_counters describe()).
uint64_t logged_link_bytes(const std::string& line);

// 0 when both runs completed with equal digests; 1 otherwise (the reason on `err`).
int run_node_bench(const node_bench_options& o, std::ostream& out, std::ostream& err);

}  // namespace fedactor
