#pragma once

// The machine probes of `fedactor bench` (docs/benchmarks.md): memory read bandwidth, the
// accumulator's fold rate, FedBuff ingest one by one and pre-aggregated, region routing. Each
// returns a rate measured on this machine, best of a few passes where it says so.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fedactor {

// Read bandwidth of memory: `threads` threads summing disjoint slices of a buffer of `mib`
// MiB (256 by default, far beyond the caches), best of 5 passes. Bytes per second.
double stream_read_bandwidth(uint32_t threads, uint32_t mib);

// A pool of `count` distinct updates of `dim` values (small deltas, as clients send: normal
// values from stream u + 1, times 0.01).
std::vector<std::vector<float>> update_pool(size_t dim, size_t count);

// Accumulator fold rate: `threads` threads each folding its share of the pool into its own
// accumulator (as edges do), best of 3 passes. Update bytes per second.
double fold_bandwidth(uint32_t threads, const std::vector<std::vector<float>>& pool);

// FedBuff server ingest on one thread: updates offered per second (default async settings:
// buffer 50, staleness threshold 5, base versions 0-2 behind).
double fedbuff_ingest_rate(const std::vector<std::vector<float>>& pool, size_t updates);

// FedBuff ingest with edge pre-aggregation (async.edge_mode: preaggregate): `edges` threads
// each fold their updates into groups of `group` and hand the groups to the server thread,
// which offers each with offer_group. Updates (group members) absorbed per second.
double fedbuff_grouped_ingest_rate(const std::vector<std::vector<float>>& pool, size_t updates,
                                   uint32_t edges, uint32_t group);

// Region routing (topology.routing region): routing decisions per second for `clients`
// clients of 3 regions over 12 edges with a capacity of 64 tasks per edge.
double region_routing_rate(uint64_t clients);

}  // namespace fedactor
