#pragma once

// The scenario's scripted events (key `events`, docs/scenarios.md "Events") in firing order,
// for the protocol loops: they take the events that are due at each round / step boundary and,
// under the simulated clock, as simulated time passes. Each event fires once.
//
// Dispatch: the edge and client kinds act inside the loops (edges through the edge set and
// the loops' edge-loss paths, clients through client_conditions). A server_crash is taken
// apart (take_crash) at a round / step boundary: the loop then halts with a checkpoint and the
// host resumes a new server from it. fires_in_loop() says which kinds take_counted /
// take_until hand out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/metrics/round_record.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// True for the kinds take_counted / take_until hand out (all but server_crash).
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

  // The first server_crash (file order) not yet taken that is due at the boundary before
  // round / step `next` at simulated time `now` (round / step <= next, or at <= now), taken;
  // nullopt when none is due. One at a time: a crash ends the server.
  std::optional<scenario_event> take_crash(uint32_t next, double now);

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
  std::vector<entry> crashes_;  // server_crash events, file order
  std::vector<bool> crashed_;   // taken, by crashes_ index
  size_t next_counted_ = 0;
  size_t next_timed_ = 0;
  size_t pending_ = 0;
  std::vector<uint32_t> fired_;
};

class edge_set;
class client_conditions;

// Applies again, in order, the effects of the events `ids` (indices into `events`, as
// fired_ids() lists them) to a loop's edges and client conditions: what a loop resumed from a
// checkpoint does after restore(). Each effect is a function of the event (and the seed)
// alone. A server_crash has none; `conditions` may be null when no event needs it.
void replay_effects(const std::vector<scenario_event>& events, const std::vector<uint32_t>& ids,
                    edge_set& edges, client_conditions* conditions);

// The record of `e` firing at simulated time `sim_time` (changed: see fired_event).
fired_event fired(const scenario_event& e, double sim_time, int64_t changed);

}  // namespace fedactor
