#pragma once

// What bench/basp_guard.cpp and bench/tls_byte_meter.cpp share: an actor that answers a
// param_blob with its size, and the same request sent REPS times to each of two such actors in
// another process's place (two client actor systems: CAF keeps one connection per pair of
// nodes), alternating, with the median round trip and throughput of each and their ratio.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/param_blob.hpp"

namespace fedactor::bench {

inline caf::behavior sizer() {
  return {[](const param_blob& p) { return static_cast<uint64_t>(p.size()); }};
}

struct route {
  const char* name;         // printed, padded to 11 characters
  caf::actor_system* from;  // the client system that holds `to`
  caf::actor to;
};

// Prints "payload .. MB, REPS round trips each (median)", one line per route and
// "b / a: .. x the time"; exits 1 (after a line naming `who`) when a request fails.
inline void compare_round_trips(const char* who, size_t floats, int reps, const route& a,
                                const route& b) {
  const param_blob blob{std::vector<float>(floats, 0.5f)};
  caf::scoped_actor self_a{*a.from}, self_b{*b.from};
  auto once = [&](caf::scoped_actor& self, const caf::actor& dest) {
    const auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    self->request(dest, std::chrono::seconds(60), blob)
        .receive([&](uint64_t n) { ok = n == floats; }, [](caf::error&) {});
    if (!ok) {
      std::fprintf(stderr, "%s: a request failed\n", who);
      std::exit(1);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  once(self_a, a.to);  // warm-up: connections, first buffers
  once(self_b, b.to);
  std::vector<double> ta, tb;
  for (int i = 0; i < reps; ++i) {
    ta.push_back(once(self_a, a.to));
    tb.push_back(once(self_b, b.to));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double mb = floats * sizeof(float) / 1e6;
  const double med_a = median(ta), med_b = median(tb);
  std::printf("payload %.1f MB, %d round trips each (median)\n", mb, reps);
  std::printf("%-11s %8.2f ms  %8.1f MB/s\n", a.name, med_a * 1e3, mb / med_a);
  std::printf("%-11s %8.2f ms  %8.1f MB/s\n", b.name, med_b * 1e3, mb / med_b);
  std::printf("%s / %s: %.3f x the time\n", b.name, a.name, med_b / med_a);
}

}  // namespace fedactor::bench
