#include "runtime/protocol/client_conditions.hpp"

namespace fedactor {

client_conditions::client_conditions(const client_registry& reg, const scenario& sc)
    : availability_(reg, sc.seed, sc.population.regions), factors_(sc.seed) {}

int64_t client_conditions::apply(const scenario_event& e) {
  switch (e.kind) {
    case event_kind::region_down:
      return static_cast<int64_t>(availability_.region_down(e.region));
    case event_kind::region_up:
      return static_cast<int64_t>(availability_.region_up(e.region));
    case event_kind::clients_leave:
      return static_cast<int64_t>(availability_.leave(e.clients));
    case event_kind::clients_join:
      return static_cast<int64_t>(availability_.join(e.clients));
    case event_kind::bandwidth:
      factors_.set_transfer(e.clients, e.factor);
      return -1;
    case event_kind::compute:
      factors_.set_compute(e.clients, e.factor);
      return -1;
    case event_kind::edge_down:
    case event_kind::edge_up:
    case event_kind::server_crash:
      break;
  }
  return 0;
}

}  // namespace fedactor
