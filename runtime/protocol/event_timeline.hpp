#pragma once

// The scenario's scripted events (key `events`, docs/scenarios.md "Events") in firing order,
// for the protocol loops: they take the events that are due at each round / step boundary and,
// under the simulated clock, as simulated time passes. Each event fires once.
//
// Dispatch: every kind of today acts inside the loops (edges through the edge set and the
// loops' edge-loss paths, clients through client_conditions). A kind that acts on the whole
// run (say a server crash and resume) would be taken from the same timeline by the host
// around the loop instead: fires_in_loop() says which side owns a kind.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/metrics/round_record.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// True for the kinds the protocol loops apply (all kinds of today).
bool fires_in_loop(event_kind k);

class event_timeline {
 public:
  // Keeps the events the loops apply; file order breaks ties.
  explicit event_timeline(const std::vector<scenario_event>& events);

  bool empty() const { return pending_ == 0; }

  // The not yet fired round / step events with count <= n, in (count, file) order.
  std::vector<scenario_event> take_counted(uint32_t n);
  // The not yet fired `at` events with at <= t, in (at, file) order.
  std::vector<scenario_event> take_until(double t);
  // The time of the next `at` event not yet fired.
  std::optional<double> next_at() const;

  // The scenario indices (file order) of the events taken so far, in the order taken: what a
  // checkpoint keeps of the timeline.
  const std::vector<uint32_t>& fired_ids() const { return fired_; }
  // Marks the events `ids` taken, in that order, as when a loop resumes from a checkpoint.
  // False, and nothing changed, when they are not an order this timeline takes events in
  // (another scenario's, or damaged).
  bool restore(const std::vector<uint32_t>& ids);

 private:
  struct entry {
    uint32_t id;  // index in the scenario's events
    scenario_event e;
  };
  std::vector<entry> counted_;  // sorted by (count, file order)
  std::vector<entry> timed_;    // sorted by (at, file order)
  size_t next_counted_ = 0;
  size_t next_timed_ = 0;
  size_t pending_ = 0;
  std::vector<uint32_t> fired_;
};

// The record of `e` firing at simulated time `sim_time` (changed: see fired_event).
fired_event fired(const scenario_event& e, double sim_time, int64_t changed);

}  // namespace fedactor
