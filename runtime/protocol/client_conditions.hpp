#pragma once

// What scripted events have done to the clients (docs/scenarios.md "Events"): who is
// available (client_availability: regions down, clients that left) and how much slower their
// transfers and local training are (time_factors). The protocol loops own one when the
// scenario has events, sample only available clients and time tasks with the factors.

#include <cstdint>

#include "runtime/population/availability.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/timing/time_factors.hpp"

namespace fedactor {

class client_conditions {
 public:
  // `reg` must outlive this.
  client_conditions(const client_registry& reg, const scenario& sc);

  bool available(client_id id) const { return availability_.available(id); }
  uint64_t available_count() const { return availability_.available_count(); }
  bool everyone_available() const { return availability_.everyone_available(); }
  double transfer_factor(client_id id) const { return factors_.transfer(id); }
  double compute_factor(client_id id) const { return factors_.compute(id); }

  // Applies a region, churn, bandwidth or compute event (edge kinds change nothing here).
  // Returns the clients whose availability changed, or -1 for bandwidth / compute.
  int64_t apply(const scenario_event& e);

  // True if the event can make clients unavailable (their tasks in flight then fail).
  static bool takes_clients_away(const scenario_event& e) {
    return e.kind == event_kind::region_down || e.kind == event_kind::clients_leave;
  }

 private:
  client_availability availability_;
  time_factors factors_;
};

}  // namespace fedactor
