#include "runtime/timing/time_factors.hpp"

#include "runtime/population/client_set.hpp"

namespace fedactor {

void time_factors::set_transfer(const client_selector& sel, double factor) {
  transfer_.push_back(rule{sel, factor});
}

void time_factors::set_compute(const client_selector& sel, double factor) {
  compute_.push_back(rule{sel, factor});
}

double time_factors::transfer(client_id id) const {
  for (auto it = transfer_.rbegin(); it != transfer_.rend(); ++it)
    if (selects(it->sel, seed_, rng_tag::bandwidth, id)) return it->factor;
  return 1.0;
}

double time_factors::compute(client_id id) const {
  for (auto it = compute_.rbegin(); it != compute_.rend(); ++it)
    if (selects(it->sel, seed_, rng_tag::compute, id)) return it->factor;
  return 1.0;
}

}  // namespace fedactor
