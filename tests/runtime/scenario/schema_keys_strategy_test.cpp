#include "runtime/scenario/key_makers.hpp"

#include <catch2/catch.hpp>

#include "tests/support/schema_part_checks.hpp"

using namespace fedactor;

TEST_CASE(
    "schema strategy_keys holds the strategy part of the table in order and round-trips defaults",
    "[scenario]") {
  testing::check_schema_part(
      schema::detail::strategy_keys(),
      {"strategy", "checkpoint", "robust", "attack", "privacy", "compression", "events"},
      "strategy.server_optimizer", "events");
}
