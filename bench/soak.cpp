// Soak of the async protocol (issue 12, docs/benchmarks.md): UPDATES client updates through the
// real actors (server, edges, clients) on the simulated clock, workload W1 (fedactor bench's:
// MLP 32-64-10, tutorial_random data, 10 edges, range routing), FedBuff with CONCURRENCY tasks
// in flight and a server step per BUFFER updates. Every SAMPLE_EVERY updates it reads the
// process's VmRSS and VmHWM (/proc/self/status) and the largest value since the last sample of
// the server loop's gauges (tasks in flight, held answers, model versions kept, open groups,
// busy clients: round_record::gauges) and malloc's bytes in use (mallinfo2), prints a table
// row, and at the end the verdict of runtime/metrics/soak_verdict: flat when peak RSS grew by
// at most 5 % after the warm-up (the first 10 % of the updates) and neither a gauge nor the
// heap drifted. Exit 0 when flat, 1 when not, 2 on bad
// arguments.
//
//   soak [--updates 1e6] [--sample-every 50000] [--population 10000] [--concurrency 1000]
//        [--buffer 1000] [--threads N] [--warmup 0.1] [--tolerance 0.05] [--set key=value]...

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <malloc.h>

#include <caf/actor_system.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/metrics/soak_verdict.hpp"
#include "runtime/scenario/load.hpp"

using namespace fedactor;

namespace {

constexpr const char* usage =
    "usage: soak [--updates N] [--sample-every N] [--population N] [--concurrency N]\n"
    "            [--buffer N] [--threads N] [--warmup F] [--tolerance F] [--set key=value]...";

struct soak_options {
  uint64_t updates = 1000000;
  uint64_t sample_every = 50000;
  uint64_t population = 10000;
  uint32_t concurrency = 1000;
  uint32_t buffer = 1000;
  uint32_t threads = 0;
  soak_limits limits;
  std::vector<std::string> overrides;
};

// VmRSS and VmHWM of this process, in bytes.
std::pair<uint64_t, uint64_t> rss_now() {
  std::ifstream status("/proc/self/status");
  std::string line;
  uint64_t rss = 0, hwm = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stoull(line.substr(6)) * 1024;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stoull(line.substr(6)) * 1024;
  }
  return {rss, hwm};
}

bool parse_number(const std::string& text, double lo, double hi, double& out) {
  try {
    size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && out >= lo && out <= hi;
  } catch (const std::exception&) {
    return false;
  }
}

// 0 when parsed, else the exit code (2 bad arguments, -1 help printed).
int parse(int argc, char** argv, soak_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage << '\n';
      return -1;
    }
    if (i + 1 >= argc) {
      std::cerr << "soak: "
                << (a.rfind("--", 0) == 0 ? a + " needs a value" : "unexpected '" + a + "'") << '\n'
                << usage << '\n';
      return 2;
    }
    const std::string v = argv[++i];
    double x = 0;
    auto whole = [&](double lo, double hi) {
      return parse_number(v, lo, hi, x) && x == std::floor(x);
    };
    bool ok = true;
    if (a == "--updates") {
      ok = whole(1, 1e12);
      o.updates = static_cast<uint64_t>(x);
    } else if (a == "--sample-every") {
      ok = whole(1, 1e12);
      o.sample_every = static_cast<uint64_t>(x);
    } else if (a == "--population") {
      ok = whole(1, 4294967295.0);
      o.population = static_cast<uint64_t>(x);
    } else if (a == "--concurrency") {
      ok = whole(1, 1e8);
      o.concurrency = static_cast<uint32_t>(x);
    } else if (a == "--buffer") {
      ok = whole(1, 1e8);
      o.buffer = static_cast<uint32_t>(x);
    } else if (a == "--threads") {
      ok = whole(1, 1024);
      o.threads = static_cast<uint32_t>(x);
    } else if (a == "--warmup") {
      ok = parse_number(v, 0, 0.9, o.limits.warmup_fraction);
    } else if (a == "--tolerance") {
      ok = parse_number(v, 0, 10, o.limits.rss_tolerance);
    } else if (a == "--set") {
      o.overrides.push_back(v);
    } else {
      std::cerr << "soak: unknown argument '" << a << "'\n" << usage << '\n';
      return 2;
    }
    if (!ok) {
      std::cerr << "soak: " << a << ": bad value '" << v << "'\n" << usage << '\n';
      return 2;
    }
  }
  if (o.updates % o.buffer != 0) {
    std::cerr << "soak: --updates must be a multiple of --buffer (" << o.buffer << ")\n";
    return 2;
  }
  return 0;
}

// W1 (runtime/cli/bench_command.cpp's w1_scenario) in async mode on the simulated clock.
scenario soak_scenario(const soak_options& o, std::string& error) {
  scenario sc;
  sc.name = "soak_w1";
  sc.seed = 0;
  sc.population.clients = o.population;
  sc.data.kind = data_kind::tutorial_random;
  sc.model.kind = model_kind::mlp;
  sc.model.hidden = {64};
  sc.training = training_config{};
  sc.topology.edges = 10;
  sc.topology.routing = routing_kind::range;
  sc.selection.strategy = sampling_kind::random;
  sc.selection.clients_per_round =
      static_cast<uint32_t>(std::min<uint64_t>(o.concurrency, o.population));
  sc.pool.max_live_clients = 200;
  sc.protocol.mode = protocol_mode::async;
  sc.clock = clock_kind::simulated;
  sc.async.concurrency = sc.selection.clients_per_round;
  sc.async.buffer_size = o.buffer;
  sc.async.aggregations = static_cast<uint32_t>(o.updates / o.buffer);
  if (o.threads > 0) sc.pool.trainers = o.threads;
  for (const auto& ov : o.overrides)
    if (auto err = apply_override(ov, sc)) {
      error = err->message;
      return sc;
    }
  if (auto err = validate(sc)) error = err->message;
  return sc;
}

// Bytes malloc has handed out and not taken back (small chunks in use + mmapped chunks).
uint64_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  soak_options o;
  if (int code = parse(argc, argv, o)) return code < 0 ? 0 : code;
  std::string error;
  auto sc = soak_scenario(o, error);
  if (!error.empty()) {
    std::cerr << "soak: " << error << '\n';
    return 2;
  }
  // The server loop's gauges (largest value over each sample's interval), then malloc's bytes
  // in use when sampled (KiB).
  const std::vector<std::string> names{"in_flight", "held", "versions",
                                       "groups",    "busy", "heap_KiB"};
  std::vector<soak_sample> samples;
  try {
    limit_math_threads();
    system_config cfg;
    if (o.threads > 0) cfg.set("scheduler.max-threads", static_cast<size_t>(o.threads));
    caf::actor_system sys{cfg};
    federation fl{sys, sc};
    std::printf(
        "soak: W1 async (FedBuff), %llu updates, population %llu, %u in flight, a step "
        "per %u updates, simulated clock, %u edges\n",
        static_cast<unsigned long long>(o.updates), static_cast<unsigned long long>(o.population),
        sc.async.concurrency, sc.async.buffer_size, sc.topology.edges);
    std::printf("%10s %7s %8s %9s %9s %9s %9s %6s %8s %6s %6s\n", "updates", "steps", "wall_s",
                "RSS_MiB", "peak_MiB", "heap_MiB", "in_flight", "held", "versions", "groups",
                "busy");
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t updates = 0, next = o.sample_every, stale = 0;
    uint32_t steps = 0;
    std::vector<uint64_t> interval(names.size(), 0);
    fl.on_round([&](const round_record& r) {
      updates += r.clients;
      ++steps;
      stale = r.stale_discarded;
      const auto& g = r.gauges;
      const uint64_t now[] = {g.in_flight, g.held, g.model_versions, g.groups, g.busy_clients};
      for (size_t i = 0; i < std::size(now); ++i) interval[i] = std::max(interval[i], now[i]);
      if (updates < next && steps < sc.async.aggregations) return;
      while (next <= updates) next += o.sample_every;
      const auto [rss, hwm] = rss_now();
      const uint64_t heap = heap_in_use();
      interval.back() = heap / 1024;
      samples.push_back(soak_sample{updates, rss, hwm, interval});
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%10llu %7u %8.1f %9.1f %9.1f %9.1f %9llu %6llu %8llu %6llu %6llu\n",
                  static_cast<unsigned long long>(updates), steps, wall, mib(rss), mib(hwm),
                  mib(heap), static_cast<unsigned long long>(interval[0]),
                  static_cast<unsigned long long>(interval[1]),
                  static_cast<unsigned long long>(interval[2]),
                  static_cast<unsigned long long>(interval[3]),
                  static_cast<unsigned long long>(interval[4]));
      std::fflush(stdout);
      std::fill(interval.begin(), interval.end(), 0);
    });
    auto result = fl.run();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "done: %llu updates folded (%llu discarded as stale) in %u steps, %.1f s, "
        "%.0f updates/s; model_sha256 %s\n",
        static_cast<unsigned long long>(updates), static_cast<unsigned long long>(stale), steps,
        wall, wall > 0 ? updates / wall : 0.0, result.summary.model_sha256.c_str());
  } catch (const std::exception& e) {
    std::cerr << "soak: error: " << e.what() << '\n';
    return 1;
  }
  const auto v = judge_soak(samples, names, o.limits);
  if (v.warmup_sample < samples.size())
    std::printf("warm-up: %llu updates (first sample after %.0f %% of the run)\n",
                static_cast<unsigned long long>(samples[v.warmup_sample].updates),
                100 * o.limits.warmup_fraction);
  if (!v.counters.empty())
    std::printf("peak RSS: %.1f MiB at warm-up, %.1f MiB at the end: %+.2f %% (at most %.1f %%)\n",
                mib(v.peak_rss_at_warmup), mib(v.peak_rss_at_end), 100 * v.peak_rss_growth,
                100 * o.limits.rss_tolerance);
  for (const auto& c : v.counters)
    std::printf("%-10s at most %llu in the first half after warm-up, %llu in the last%s\n",
                c.name.c_str(), static_cast<unsigned long long>(c.first_half_max),
                static_cast<unsigned long long>(c.last_half_max), c.drifting ? "  DRIFTING" : "");
  if (v.flat) {
    std::printf("verdict: flat\n");
    return 0;
  }
  std::printf("verdict: NOT flat: %s\n", v.problem.c_str());
  return 1;
}
