// Tests of runtime/population/client_set.*: the clients an event's fraction or id range
// selects.

#include "runtime/population/client_set.hpp"

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

client_selector fraction(double f) {
  client_selector s;
  s.fraction = f;
  return s;
}

}  // namespace

TEST_CASE("client set: an id range selects from up to, not including, to", "[population][events]") {
  client_selector s;
  s.from = 10;
  s.to = 20;
  CHECK_FALSE(selects(s, 1, rng_tag::churn, 9));
  CHECK(selects(s, 1, rng_tag::churn, 10));
  CHECK(selects(s, 1, rng_tag::churn, 19));
  CHECK_FALSE(selects(s, 1, rng_tag::churn, 20));
}

TEST_CASE("client set: a fraction selects the clients whose draw is below it",
          "[population][events]") {
  const uint64_t n = 10000;
  uint64_t in_small = 0, in_large = 0, both_purposes = 0;
  for (client_id id = 0; id < n; ++id) {
    const double u = selection_draw(5, rng_tag::churn, id);
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
    CHECK(u == selection_draw(5, rng_tag::churn, id));  // a pure function
    const bool small = selects(fraction(0.1), 5, rng_tag::churn, id);
    const bool large = selects(fraction(0.3), 5, rng_tag::churn, id);
    CHECK(small == (u < 0.1));
    CHECK(large == (u < 0.3));
    if (small) CHECK(large);  // a smaller fraction is a subset of a larger one
    CHECK(selects(fraction(1.0), 5, rng_tag::churn, id));
    in_small += small;
    in_large += large;
    both_purposes += large && selects(fraction(0.3), 5, rng_tag::bandwidth, id);
  }
  // About 10% and 30% of the population (seeded, so these bounds are fixed facts).
  CHECK(in_small > 900);
  CHECK(in_small < 1100);
  CHECK(in_large > 2800);
  CHECK(in_large < 3200);
  // Another purpose draws independently: about 0.3 x 0.3 of the clients are in both.
  CHECK(both_purposes > 700);
  CHECK(both_purposes < 1100);
  // Another seed, another set.
  uint64_t same = 0;
  for (client_id id = 0; id < 1000; ++id)
    same += selects(fraction(0.3), 5, rng_tag::churn, id) ==
            selects(fraction(0.3), 6, rng_tag::churn, id);
  CHECK(same < 1000);
}
