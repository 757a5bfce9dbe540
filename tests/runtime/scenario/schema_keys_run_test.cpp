#include "runtime/scenario/key_makers.hpp"

#include <catch2/catch.hpp>

#include "tests/support/schema_part_checks.hpp"

using namespace fedactor;

TEST_CASE("schema run_keys holds the run part of the table in order and round-trips defaults",
          "[scenario]") {
  testing::check_schema_part(
      schema::detail::run_keys(),
      {"name", "seed", "population", "data", "model", "eval", "training", "topology"}, "name",
      "topology.region_latency_s");
}
