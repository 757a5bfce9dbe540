#pragma once

// Which clients can take part now (scripted events, docs/scenarios.md "Events"): a client is
// unavailable while it has left (clients_leave, until a clients_join covers it) or while its
// region is down (region_down, until region_up). Samplers skip unavailable clients and the
// protocol loops fail their tasks in flight (failure_code::unavailable).
//
// Compact: one bit per client for the clients that left (allocated at the first churn event),
// one flag and one count per region. available() is O(1); available_count() O(1). An event
// costs one pass over the clients it names (an id range), or over the population for a
// fraction (once per event, never per round); sampling never scans the population for it.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/population/registry.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

class client_availability {
 public:
  // `reg` must outlive this; `regions` is population.regions (every client's region is below).
  client_availability(const client_registry& reg, uint64_t seed, uint32_t regions);

  bool available(client_id id) const {
    if (!region_up_[reg_.region(id)]) return false;
    return away_.empty() || (away_[id >> 6] >> (id & 63) & 1u) == 0;
  }
  // Clients available now.
  uint64_t available_count() const { return available_; }
  bool everyone_available() const { return available_ == reg_.size(); }

  // Region `r` goes down / comes back; r >= regions is ignored. Returns the change in
  // available clients (clients of the region that had not left).
  uint64_t region_down(uint32_t r);
  uint64_t region_up(uint32_t r);
  bool region_is_up(uint32_t r) const { return r < region_up_.size() && region_up_[r]; }

  // The clients `sel` selects (client_set.hpp, purpose churn) leave / come back. Returns how
  // many changed state (left now / came back now).
  uint64_t leave(const client_selector& sel);
  uint64_t join(const client_selector& sel);
  // True while `id` has left (whatever its region's state).
  bool away(client_id id) const {
    return !away_.empty() && (away_[id >> 6] >> (id & 63) & 1u) != 0;
  }

  // Heap bytes held.
  size_t bytes() const;

 private:
  uint64_t set_away(const client_selector& sel, bool leave);
  void recount();

  const client_registry& reg_;
  uint64_t seed_;
  std::vector<uint64_t> away_;            // bit per client; empty until the first churn event
  std::vector<bool> region_up_;           // per region
  std::vector<uint64_t> region_present_;  // per region: clients that have not left
  uint64_t available_ = 0;
};

}  // namespace fedactor
