// The machine probes of `fedactor bench` (see bench_probes.hpp).

#include "runtime/cli/bench_probes.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "runtime/math/accumulator.hpp"
#include "runtime/math/fedbuff.hpp"
#include "runtime/math/normal_fill.hpp"
#include "runtime/population/region_router.hpp"
#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Runs body(t) on threads 0..n-1 at once; returns the wall seconds of the slowest.
template <class F>
double timed_parallel(uint32_t n, F body) {
  std::vector<std::thread> pool;
  const auto t0 = clock_type::now();
  for (uint32_t t = 0; t < n; ++t) pool.emplace_back(body, t);
  for (auto& th : pool) th.join();
  return seconds_since(t0);
}

}  // namespace

// Read bandwidth of memory: `threads` threads summing disjoint slices of a buffer of `mib`
// MiB (256 by default, far beyond the caches), best of 5 passes. Bytes per second.
double stream_read_bandwidth(uint32_t threads, uint32_t mib) {
  const size_t n = (size_t{mib} << 20) / sizeof(uint32_t);
  std::vector<uint32_t> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<uint32_t>(i * 2654435761u);
  std::vector<uint32_t> sums(threads);
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const double t = timed_parallel(threads, [&](uint32_t id) {
      const size_t lo = n * id / threads, hi = n * (id + 1) / threads;
      uint32_t s = 0;
      for (size_t i = lo; i < hi; ++i) s += buf[i];
      sums[id] = s;
    });
    best = std::min(best, t);
  }
  volatile uint32_t sink = 0;
  for (auto s : sums) sink = sink + s;
  return static_cast<double>(n * sizeof(uint32_t)) / best;
}

// A pool of `count` distinct W1-sized updates (small deltas, as clients send).
std::vector<std::vector<float>> update_pool(size_t dim, size_t count) {
  std::vector<std::vector<float>> pool(count, std::vector<float>(dim));
  for (size_t u = 0; u < count; ++u) {
    fill_normal(u + 1, pool[u].data(), dim);
    for (auto& v : pool[u]) v *= 0.01f;
  }
  return pool;
}

// Accumulator fold rate: `threads` threads each folding its share of the pool into its own
// accumulator (as edges do), best of 3 passes. Update bytes per second.
double fold_bandwidth(uint32_t threads, const std::vector<std::vector<float>>& pool) {
  const size_t dim = pool.front().size();
  double best = 1e30;
  for (int pass = 0; pass < 3; ++pass) {
    const double t = timed_parallel(threads, [&](uint32_t id) {
      weighted_accumulator acc(dim);
      const size_t lo = pool.size() * id / threads, hi = pool.size() * (id + 1) / threads;
      for (size_t u = lo; u < hi; ++u) acc.add(pool[u].data(), 50.0 + u % 150, 2.3);
    });
    best = std::min(best, t);
  }
  return static_cast<double>(pool.size() * dim * sizeof(float)) / best;
}

// FedBuff server ingest on one thread: updates offered per second (W1 size, default async
// settings: buffer 50, staleness threshold 5, base versions 0-2 behind).
double fedbuff_ingest_rate(const std::vector<std::vector<float>>& pool, size_t updates) {
  const size_t dim = pool.front().size();
  async_config cfg;
  fedbuff fb{std::vector<float>(dim, 0.0f), cfg,
             make_server_optimizer(server_optimizer_defaults("sgd"), dim)};
  const auto t0 = clock_type::now();
  for (size_t i = 0; i < updates; ++i) {
    const auto& p = pool[i % pool.size()];
    const uint64_t behind = std::min<uint64_t>(fb.version(), i % 3);
    fb.offer(fedbuff_update{p.data(), dim, static_cast<uint32_t>(50 + i % 150),
                            fb.version() - behind, 2.3});
    if (i % 4096 == 0) fb.take_records();
  }
  return static_cast<double>(updates) / seconds_since(t0);
}

// FedBuff ingest with edge pre-aggregation (async.edge_mode: preaggregate): `edges` threads
// each fold their updates into groups of `group` (Σ n·Δ with Δ = params − base model, as an
// edge does, in the accumulator's pass) and hand the groups to the server thread, which offers each
// with offer_group. Updates (group members) absorbed per second, all threads together.
double fedbuff_grouped_ingest_rate(const std::vector<std::vector<float>>& pool, size_t updates,
                                   uint32_t edges, uint32_t group) {
  const size_t dim = pool.front().size();
  async_config cfg;
  fedbuff fb{std::vector<float>(dim, 0.0f), cfg,
             make_server_optimizer(server_optimizer_defaults("sgd"), dim)};
  const std::vector<float> base(dim, 0.0f);  // the version-0 model the members started from
  std::mutex mx;
  std::condition_variable cv;
  std::vector<weighted_accumulator> ready;
  uint32_t producers_left = edges;
  const size_t groups = updates / group;
  const auto t0 = clock_type::now();
  std::vector<std::thread> producers;
  for (uint32_t e = 0; e < edges; ++e) {
    producers.emplace_back([&, e] {
      std::vector<weighted_accumulator> batch;
      for (size_t g = e; g < groups; g += edges) {
        weighted_accumulator acc(dim);
        for (uint32_t m = 0; m < group; ++m) {
          const auto& p = pool[(g * group + m) % pool.size()];
          acc.add_difference(p.data(), base.data(), 50.0 + m, 2.3);  // as the edge folds
        }
        batch.push_back(std::move(acc));
        if (batch.size() == 16) {
          std::lock_guard<std::mutex> lock{mx};
          for (auto& a : batch) ready.push_back(std::move(a));
          batch.clear();
          cv.notify_one();
        }
      }
      std::lock_guard<std::mutex> lock{mx};
      for (auto& a : batch) ready.push_back(std::move(a));
      --producers_left;
      cv.notify_one();
    });
  }
  size_t absorbed = 0;
  std::vector<weighted_accumulator> work;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mx};
      cv.wait(lock, [&] { return !ready.empty() || producers_left == 0; });
      if (ready.empty() && producers_left == 0) break;
      work.swap(ready);
    }
    for (auto& a : work) {
      // Staleness 0 when the group arrives (base version = the server's version): the cost
      // of a step is the same whatever the staleness.
      fb.offer_group(a, fb.version(), group);
      absorbed += group;
      if (absorbed % (256 * group) == 0) fb.take_records();
    }
    work.clear();
  }
  for (auto& t : producers) t.join();
  return static_cast<double>(absorbed) / seconds_since(t0);
}

// Region routing (topology.routing region): routing decisions per second for `clients`
// clients of 3 regions over 12 edges (6, 4 and 2: unequal) with a capacity of 64 tasks per
// edge, each task released 512 routings later (a steady flow that keeps the small regions
// spilling). The decision, the load count and the release are what a loop does per client.
double region_routing_rate(uint64_t clients) {
  region_router route({0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2}, 3, region_latency_matrix({}, 3), 64);
  const std::vector<bool> alive(12, true);
  std::vector<uint32_t> ring(512, UINT32_MAX);
  uint64_t check = 0;
  const auto t0 = clock_type::now();
  for (uint64_t i = 0; i < clients; ++i) {
    auto& slot = ring[i % ring.size()];
    if (slot != UINT32_MAX) route.release(slot);
    slot = *route.route(static_cast<uint32_t>(i % 3), alive);
    check += slot;
  }
  const double s = seconds_since(t0);
  if (check == UINT64_MAX) std::fprintf(stderr, "?");  // keeps the loop observable
  return s > 0 ? static_cast<double>(clients) / s : 0.0;
}

}  // namespace fedactor
