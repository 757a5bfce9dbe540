// Tests of runtime/protocol/client_conditions.*: the client kinds of scripted events applied to
// availability and time factors.

#include "runtime/protocol/client_conditions.hpp"

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

scenario_event event(event_kind kind) {
  scenario_event e;
  e.kind = kind;
  e.trigger = event_trigger::round;
  e.count = 1;
  return e;
}

}  // namespace

TEST_CASE("client conditions apply region, churn, bandwidth and compute events",
          "[protocol][events]") {
  scenario sc;
  sc.seed = 3;
  sc.population.clients = 10;
  sc.population.regions = 2;
  // Client c in region c % 2.
  client_registry reg(
      10, 3, 2, [](client_id) { return 10u; },
      [](client_id id) {
        return client_meta{1.0f, static_cast<uint16_t>(id % 2)};
      });
  client_conditions c(reg, sc);
  CHECK(c.everyone_available());
  auto down = event(event_kind::region_down);
  down.region = 0;
  CHECK(client_conditions::takes_clients_away(down));
  CHECK(c.apply(down) == 5);
  CHECK(c.available_count() == 5);
  CHECK_FALSE(c.available(4));
  auto leave = event(event_kind::clients_leave);
  leave.clients.from = 5;
  leave.clients.to = 8;
  CHECK(client_conditions::takes_clients_away(leave));
  CHECK(c.apply(leave) == 3);
  CHECK(c.available_count() == 3);  // 1, 3, 9
  auto up = event(event_kind::region_up);
  up.region = 0;
  CHECK_FALSE(client_conditions::takes_clients_away(up));
  CHECK(c.apply(up) == 4);  // 0 2 4 8; 6 left
  auto join = event(event_kind::clients_join);
  join.clients.fraction = 1;
  CHECK(c.apply(join) == 3);
  CHECK(c.everyone_available());
  auto slow = event(event_kind::bandwidth);
  slow.clients.from = 0;
  slow.clients.to = 2;
  slow.factor = 5;
  CHECK(c.apply(slow) == -1);
  CHECK(c.transfer_factor(1) == 5.0);
  CHECK(c.transfer_factor(2) == 1.0);
  auto busy = event(event_kind::compute);
  busy.clients.fraction = 1;
  busy.factor = 2;
  CHECK(c.apply(busy) == -1);
  CHECK(c.compute_factor(9) == 2.0);
  CHECK(c.transfer_factor(9) == 1.0);
  CHECK(c.apply(event(event_kind::edge_down)) == 0);  // not a client kind
}
