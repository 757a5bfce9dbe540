// Tests of runtime/timing/time_factors.*: per-client transfer and compute factors set by
// scripted bandwidth / compute events.

#include "runtime/timing/time_factors.hpp"

#include <catch2/catch.hpp>

#include "runtime/population/client_set.hpp"

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

}  // namespace

TEST_CASE("time factors are 1 until an event selects the client", "[timing][events]") {
  time_factors f(3);
  for (client_id id : {0u, 5u, 999u}) {
    CHECK(f.transfer(id) == 1.0);
    CHECK(f.compute(id) == 1.0);
  }
  f.set_transfer(ids(0, 5), 4.0);
  CHECK(f.transfer(0) == 4.0);
  CHECK(f.transfer(4) == 4.0);
  CHECK(f.transfer(5) == 1.0);
  CHECK(f.compute(0) == 1.0);  // transfer and compute apart
  f.set_compute(ids(3, 10), 2.5);
  CHECK(f.compute(3) == 2.5);
  CHECK(f.compute(9) == 2.5);
  CHECK(f.compute(2) == 1.0);
  CHECK(f.transfer(3) == 4.0);
}

TEST_CASE("time factors: the latest event that selects a client wins", "[timing][events]") {
  time_factors f(3);
  f.set_transfer(ids(0, 10), 4.0);
  f.set_transfer(ids(5, 20), 8.0);
  CHECK(f.transfer(4) == 4.0);
  CHECK(f.transfer(5) == 8.0);
  CHECK(f.transfer(19) == 8.0);
  f.set_transfer(fraction(1.0), 1.0);  // everyone back to normal
  for (client_id id = 0; id < 20; ++id) CHECK(f.transfer(id) == 1.0);
}

TEST_CASE("time factors of a fraction follow the bandwidth and compute draws", "[timing][events]") {
  time_factors f(11);
  f.set_transfer(fraction(0.5), 3.0);
  f.set_compute(fraction(0.5), 2.0);
  for (client_id id = 0; id < 200; ++id) {
    CAPTURE(id);
    CHECK(f.transfer(id) == (selection_draw(11, rng_tag::bandwidth, id) < 0.5 ? 3.0 : 1.0));
    CHECK(f.compute(id) == (selection_draw(11, rng_tag::compute, id) < 0.5 ? 2.0 : 1.0));
  }
}
