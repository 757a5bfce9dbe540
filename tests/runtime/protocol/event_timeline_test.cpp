// Tests of runtime/protocol/event_timeline.*: the scenario's events in firing order, each
// taken once, and how a fired event is described in the records.

#include "runtime/protocol/event_timeline.hpp"

#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/population/registry.hpp"
#include "runtime/protocol/client_conditions.hpp"
#include "runtime/protocol/edge_set.hpp"

using namespace fedactor;

namespace {

scenario_event counted(event_trigger t, uint32_t n, uint32_t edge) {
  scenario_event e;
  e.trigger = t;
  e.count = n;
  e.kind = event_kind::edge_down;
  e.edge = edge;
  return e;
}

scenario_event timed(double at, uint32_t edge) {
  scenario_event e;
  e.trigger = event_trigger::at;
  e.at = at;
  e.kind = event_kind::edge_up;
  e.edge = edge;
  return e;
}

std::vector<uint32_t> edges_of(const std::vector<scenario_event>& es) {
  std::vector<uint32_t> out;
  for (const auto& e : es) out.push_back(e.edge);
  return out;
}

}  // namespace

TEST_CASE("event timeline takes round events up to a count, each once, file order on ties",
          "[protocol][events]") {
  event_timeline t({counted(event_trigger::round, 3, 0), counted(event_trigger::round, 1, 1),
                    counted(event_trigger::round, 3, 2), counted(event_trigger::round, 2, 3)});
  CHECK_FALSE(t.empty());
  CHECK_FALSE(t.next_at());
  CHECK(edges_of(t.take_counted(1)) == std::vector<uint32_t>{1});
  CHECK(t.take_counted(1).empty());
  // Skipping a count takes what was due before it too.
  CHECK(edges_of(t.take_counted(3)) == std::vector<uint32_t>{3, 0, 2});
  CHECK(t.empty());
}

TEST_CASE("event timeline takes timed events up to a time in time order", "[protocol][events]") {
  event_timeline t({timed(30, 0), timed(10, 1), timed(10, 2), counted(event_trigger::step, 1, 3)});
  CHECK(*t.next_at() == 10.0);
  CHECK(t.take_until(9.5).empty());
  CHECK(edges_of(t.take_until(10)) == std::vector<uint32_t>{1, 2});
  CHECK(*t.next_at() == 30.0);
  CHECK(edges_of(t.take_counted(1)) == std::vector<uint32_t>{3});
  CHECK_FALSE(t.empty());
  CHECK(edges_of(t.take_until(1e9)) == std::vector<uint32_t>{0});
  CHECK_FALSE(t.next_at());
  CHECK(t.empty());
}

TEST_CASE("event timeline: every kind of today fires in the loops", "[protocol][events]") {
  for (auto k : {event_kind::edge_down, event_kind::edge_up, event_kind::region_down,
                 event_kind::region_up, event_kind::clients_leave, event_kind::clients_join,
                 event_kind::bandwidth, event_kind::compute})
    CHECK(fires_in_loop(k));
}

TEST_CASE("a fired event names its kind, target and trigger", "[protocol][events]") {
  auto f = fired(counted(event_trigger::round, 3, 2), 12.5, 1);
  CHECK(f.kind == "edge_down");
  CHECK(f.target == "edge 2");
  CHECK(f.trigger == "round 3");
  CHECK(f.sim_time_s == 12.5);
  CHECK(f.changed == 1);
  scenario_event region;
  region.kind = event_kind::region_up;
  region.trigger = event_trigger::step;
  region.count = 10;
  region.region = 4;
  f = fired(region, 0, 250);
  CHECK(f.target == "region 4");
  CHECK(f.trigger == "step 10");
  CHECK(f.changed == 250);
  scenario_event churn;
  churn.kind = event_kind::clients_leave;
  churn.trigger = event_trigger::at;
  churn.at = 120.5;
  churn.clients.fraction = 0.25;
  f = fired(churn, 121, 30);
  CHECK(f.target == "fraction 0.25");
  CHECK(f.trigger == "at 120.5");
  scenario_event slow;
  slow.kind = event_kind::bandwidth;
  slow.trigger = event_trigger::round;
  slow.count = 1;
  slow.clients.from = 0;
  slow.clients.to = 100;
  slow.factor = 20;
  f = fired(slow, 0, -1);
  CHECK(f.target == "ids [0, 100) x20");
  CHECK(f.changed == -1);
}

TEST_CASE("event timeline lists what it fired and restores exactly that in a new timeline",
          "[protocol][events]") {
  const std::vector<scenario_event> events = {timed(30, 0), counted(event_trigger::round, 2, 1),
                                              timed(10, 2), counted(event_trigger::round, 5, 3)};
  event_timeline t(events);
  t.take_until(10);
  t.take_counted(2);
  t.take_until(30);
  // Scenario indices in the order taken.
  CHECK(t.fired_ids() == std::vector<uint32_t>{2, 1, 0});
  event_timeline again(events);
  REQUIRE(again.restore(t.fired_ids()));
  CHECK(again.fired_ids() == t.fired_ids());
  CHECK_FALSE(again.next_at());  // both timed events are taken
  CHECK(again.take_until(1000).empty());
  CHECK(again.take_counted(4).empty());
  CHECK(edges_of(again.take_counted(5)) == std::vector<uint32_t>{3});
  CHECK(again.empty());
  // Not an order this timeline fires in (round 5 before round 2; an unknown index): refused,
  // nothing taken.
  event_timeline other(events);
  CHECK_FALSE(other.restore({3}));
  CHECK_FALSE(other.restore({2, 9}));
  CHECK(other.fired_ids().empty());
  CHECK(*other.next_at() == 10.0);
  CHECK(edges_of(other.take_counted(2)) == std::vector<uint32_t>{1});
}

TEST_CASE("event timeline hands out server crashes apart, one at a time, when due",
          "[protocol][events]") {
  scenario_event crash_round;
  crash_round.kind = event_kind::server_crash;
  crash_round.trigger = event_trigger::round;
  crash_round.count = 3;
  scenario_event crash_at = crash_round;
  crash_at.trigger = event_trigger::at;
  crash_at.at = 50;
  const std::vector<scenario_event> events = {crash_round, counted(event_trigger::round, 3, 7),
                                              crash_at};
  CHECK_FALSE(fires_in_loop(event_kind::server_crash));
  event_timeline t(events);
  // Not among the loop's events.
  CHECK(edges_of(t.take_counted(3)) == std::vector<uint32_t>{7});
  CHECK_FALSE(t.next_at());
  CHECK(t.empty());
  // Due before round 3 (after round 2), and at simulated time 50; one per call.
  CHECK_FALSE(t.take_crash(2, 10));
  auto first = t.take_crash(3, 60);
  REQUIRE(first);
  CHECK(first->trigger == event_trigger::round);
  auto second = t.take_crash(3, 60);
  REQUIRE(second);
  CHECK(second->trigger == event_trigger::at);
  CHECK_FALSE(t.take_crash(100, 1000));
  CHECK(t.fired_ids() == std::vector<uint32_t>{1, 0, 2});
  // Restored with the rest: a crash taken before a checkpoint does not come again.
  event_timeline again(events);
  REQUIRE(again.restore({1, 0}));
  auto left = again.take_crash(100, 1000);
  REQUIRE(left);
  CHECK(left->trigger == event_trigger::at);
  CHECK_FALSE(again.restore({0}));  // taken already
}

TEST_CASE("replayed effects leave the edges and clients as the fired events did",
          "[protocol][events]") {
  scenario sc;
  sc.population.clients = 100;
  client_registry reg(100, 7, 1, [](client_id) { return 10u; });
  auto down = counted(event_trigger::round, 2, 1);  // edge 1 down
  auto up = timed(5, 1);                            // edge 1 up
  scenario_event leave;
  leave.kind = event_kind::clients_leave;
  leave.clients.from = 0;
  leave.clients.to = 30;
  scenario_event crash;
  crash.kind = event_kind::server_crash;
  const std::vector<scenario_event> events = {down, leave, up, crash};
  edge_set edges(std::make_unique<router>(routing_kind::range, 100, 3, 0),
                 edge_loss_policy::reroute);
  client_conditions cond(reg, sc);
  // Edge 1 down and 30 clients gone.
  replay_effects(events, {0, 1, 3}, edges, &cond);
  CHECK_FALSE(edges.alive(1));
  CHECK(edges.alive(0));
  CHECK(cond.available_count() == 70);
  CHECK_FALSE(cond.available(29));
  CHECK(cond.available(30));
  // Then edge 1 back: the order of the ids is the order of the effects.
  replay_effects(events, {2}, edges, &cond);
  CHECK(edges.alive(1));
}
