#pragma once

// `fedactor bench`: the throughput and scale table. Runs workload W1 (the tutorial's
// benchmark: MLP 32-64-10 on tutorial_random data, 50-199 samples per client, batch 32,
// 1 epoch, SGD lr 0.01 momentum 0.9, 10 edges, sync hierarchical FedAvg; the scenario of
// examples/scenarios/tutorial_sync.yaml) through the embedding API once per population,
// each population in a child process of its own so that its peak RSS is its own, and prints
// per population: clients/round, seconds/round (median), clients/s, peak RSS, registry bytes
// per client, population build time, and the rate at which updates were aggregated next to
// the machine's memory bandwidth (a streaming probe run in the same invocation). Probes of
// the accumulator's fold rate and of FedBuff server ingest (updates forwarded one by one, and
// pre-aggregated by edge threads in groups of 5) are reported alongside. With
// --mode async the workload runs as FedBuff (clients-per-round tasks in flight, a server
// step per clients-per-round updates), and a "round" of the table is one server step.
//
//   fedactor bench [--populations 1e3,1e4,...] [--clients-per-round N] [--rounds N]
//                  [--threads N] [--mode sync|async] [--set key=value]... [--json]

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// The options of `fedactor bench` (parse_cli; the bash completion reads them too).
cli_spec bench_cli_spec();

// Exit codes: 0 done, 2 bad arguments, 1 a population failed to run. --help and argument
// errors go to `out` / `err`; the table, the JSON and the progress to stdout / stderr.
int bench_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int bench_command(const std::vector<std::string>& args);

}  // namespace fedactor
