#pragma once

// Scripted changes of client devices (events `bandwidth` and `compute`, docs/scenarios.md
// "Events"): from the event on, the selected clients' simulated transfer time (model down and
// update up) or local compute time is multiplied by the event's factor. The latest event that
// covers a client sets its factor (factor 1 restores it); clients no event covers keep 1.
// No memory per client: one rule per event, a lookup walks the rules (O(events)).

#include <cstdint>
#include <vector>

#include "runtime/population/client_id.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

class time_factors {
 public:
  explicit time_factors(uint64_t seed) : seed_(seed) {}

  // From now on the clients `sel` selects (client_set.hpp, purpose bandwidth / compute) have
  // `factor`.
  void set_transfer(const client_selector& sel, double factor);
  void set_compute(const client_selector& sel, double factor);

  double transfer(client_id id) const;
  double compute(client_id id) const;

 private:
  struct rule {
    client_selector sel;
    double factor;
  };
  uint64_t seed_;
  std::vector<rule> transfer_;
  std::vector<rule> compute_;
};

}  // namespace fedactor
