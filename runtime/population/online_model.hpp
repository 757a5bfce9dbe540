#pragma once

// Whether a client is online at a simulated time, from population.availability
// (docs/selection.md "Availability"). Independent of the scripted events: the protocol loops
// treat a client as available only if both this model and the events say so.
//
//   always:  every client is online at every time (the default; runs are unchanged).
//   diurnal: time is cut into slots of slot_s seconds; in slot s = floor(t / slot_s) client i
//            of region r is online iff u(seed, i, s) < p_r(s · slot_s), where
//              p_r(t) = clamp(base + amplitude · cos(2π (t − peak_s[r]) / period_s), 0, 1)
//            and u is uniform in [0, 1) from rng{stream_key(seed, availability, i, s)}. O(1)
//            per query, no per-client state.
//   trace:   a text file of online intervals (format in docs/selection.md); a client is online
//            during its intervals only. Compact: 4 bytes per client plus 16 bytes per interval
//            (and 16 more for online_fraction's sorted ends). available at t: binary search in
//            the client's own intervals.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/population/registry.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// One client's online interval [start, end), simulated seconds.
struct online_interval {
  double start = 0;
  double end = 0;
};

// A parsed trace: intervals of client i are intervals[offsets[i] .. offsets[i+1]), ascending
// and disjoint.
struct online_trace {
  std::vector<uint32_t> offsets;  // population + 1 entries
  std::vector<online_interval> intervals;
};

// Parses the trace text `text` (named `file` in errors) for `clients` clients. Throws
// std::invalid_argument with one line "file:line: what is wrong".
online_trace parse_online_trace(const std::string& text, const std::string& file, uint64_t clients);
// Reads and parses the trace file `path` (errors as above; an unreadable file: "path: cannot
// read").
online_trace load_online_trace(const std::string& path, uint64_t clients);

class online_model {
 public:
  // `reg` must outlive this. For the trace model the file is read here (errors as
  // load_online_trace).
  online_model(const availability_config& cfg, const client_registry& reg, uint64_t seed);
  // A trace model over an already parsed trace.
  online_model(online_trace trace, const client_registry& reg);

  bool always() const { return kind_ == availability_model::always; }

  // Client `id` is online at simulated time t (t >= 0).
  bool online(client_id id, double t) const;
  // The first time in [t0, t1) at which `id` is offline (t0 itself when it is offline then),
  // or nothing when it stays online throughout. Diurnal: O((t1 − t0) / slot_s); trace:
  // O(log intervals of the client).
  std::optional<double> offline_at(client_id id, double t0, double t1) const;
  // The share of the population online at t. Diurnal: its expectation Σ_r n_r p_r(t) / n
  // (O(regions)); trace: exact (O(log intervals)); always: 1.
  double online_fraction(double t) const;

  // The next time after t at which a client may come online: diurnal, the next slot's start;
  // trace, the first interval start after t (nothing when none is left); always: nothing.
  std::optional<double> next_change(double t) const;

  // Diurnal: p_r(t) as defined above.
  double probability(uint32_t region, double t) const;

  // Heap bytes held.
  size_t bytes() const;

 private:
  availability_model kind_;
  const client_registry& reg_;
  uint64_t seed_ = 0;
  availability_config cfg_;
  std::vector<uint64_t> region_clients_;  // diurnal: clients per region
  online_trace trace_;
  std::vector<double> starts_, ends_;  // trace: every interval's start / end, sorted
  void index_trace();
};

}  // namespace fedactor
