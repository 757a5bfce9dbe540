// Tests of runtime/population/availability.*: clients away by region or churn, counted
// exactly, with a compact structure.

#include "runtime/population/availability.hpp"

#include <catch2/catch.hpp>

#include "runtime/population/client_set.hpp"
#include "runtime/population/sampler.hpp"

using namespace fedactor;

namespace {

client_selector ids(uint64_t from, uint64_t to) {
  client_selector s;
  s.from = from;
  s.to = to;
  return s;
}

client_selector fraction(double f) {
  client_selector s;
  s.fraction = f;
  return s;
}

// 10 clients in 3 regions: client c in region c % 3 (region 0: 0 3 6 9; 1: 1 4 7; 2: 2 5 8).
client_registry ten_in_three() {
  return client_registry(
      10, 1, 3, [](client_id) { return 10u; },
      [](client_id id) {
        return client_meta{1.0f, static_cast<uint16_t>(id % 3)};
      });
}

}  // namespace

TEST_CASE("availability: everyone is available until an event", "[population][events]") {
  auto reg = ten_in_three();
  client_availability a(reg, 1, 3);
  CHECK(a.available_count() == 10);
  CHECK(a.everyone_available());
  for (client_id id = 0; id < 10; ++id) CHECK(a.available(id));
}

TEST_CASE("availability: regions and churn combine, counted exactly", "[population][events]") {
  auto reg = ten_in_three();
  client_availability a(reg, 1, 3);
  CHECK(a.region_down(1) == 3);
  CHECK(a.available_count() == 7);
  CHECK_FALSE(a.available(1));
  CHECK_FALSE(a.available(4));
  CHECK(a.available(0));
  CHECK_FALSE(a.region_is_up(1));
  CHECK(a.region_down(1) == 0);  // already down
  CHECK(a.region_down(3) == 0);  // no such region
  // Clients 0..4 leave: 0 3 (region 0), 2 (region 2), 1 4 (region 1, down already).
  CHECK(a.leave(ids(0, 5)) == 5);
  CHECK(a.available_count() == 4);  // 6 9 and 5 8
  CHECK(a.away(4));
  CHECK(a.leave(ids(0, 5)) == 0);  // already away
  // Region 1 is back, but 1 and 4 left: only 7 returns.
  CHECK(a.region_up(1) == 1);
  CHECK(a.available_count() == 5);
  CHECK(a.available(7));
  CHECK_FALSE(a.available(4));
  CHECK(a.join(ids(3, 10)) == 2);  // 3 and 4 come back
  CHECK(a.available_count() == 7);
  CHECK(a.available(4));
  CHECK_FALSE(a.available(0));
  CHECK(a.join(fraction(1.0)) == 3);  // 0 1 2
  CHECK(a.everyone_available());
}

TEST_CASE("availability: a fraction leaves by the churn draw", "[population][events]") {
  client_registry reg(1000, 9, 1, [](client_id) { return 10u; });
  client_availability a(reg, 9, 1);
  CHECK(a.join(fraction(0.5)) == 0);  // nobody has left
  const uint64_t left = a.leave(fraction(0.3));
  uint64_t expected = 0;
  for (client_id id = 0; id < 1000; ++id) {
    const bool selected = selection_draw(9, rng_tag::churn, id) < 0.3;
    expected += selected;
    CHECK(a.available(id) == !selected);
  }
  CHECK(left == expected);
  CHECK(a.available_count() == 1000 - expected);
  // Join a third of the fraction: those with the smallest draws.
  a.join(fraction(0.1));
  for (client_id id = 0; id < 1000; ++id) {
    const double u = selection_draw(9, rng_tag::churn, id);
    CHECK(a.available(id) == (u < 0.1 || u >= 0.3));
  }
}

TEST_CASE("availability takes one bit per client", "[population][events]") {
  client_registry reg(1000000, 1, 4, [](client_id) { return 10u; });
  client_availability a(reg, 1, 4);
  CHECK(a.bytes() < 1024);  // nothing per client before churn
  a.leave(ids(10, 20));
  CHECK(a.available_count() == 1000000 - 10);
  CHECK(a.bytes() <= 1000000 / 8 + 1024);
}

TEST_CASE("availability: no sampler picks a client that left or whose region is down",
          "[population][events]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    CAPTURE(static_cast<int>(kind));
    client_registry reg(
        1000, 4, 4, [](client_id id) { return 10u + id % 7; },
        [](client_id id) {
          return client_meta{1.0f, static_cast<uint16_t>(id % 4)};
        });
    client_availability a(reg, 4, 4);
    a.leave(fraction(0.5));
    a.region_down(2);
    auto pick = make_sampler(kind, reg, 4);
    for (int32_t round = 1; round <= 30; ++round) {
      auto ids = pick->sample(20, round, [&a](client_id id) { return !a.available(id); });
      REQUIRE(ids.size() == 20);
      for (auto id : ids) {
        CHECK(a.available(id));
        CHECK(id % 4 != 2);
      }
    }
  }
}
