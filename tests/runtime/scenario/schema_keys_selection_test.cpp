#include "runtime/scenario/key_makers.hpp"

#include <catch2/catch.hpp>

#include "tests/support/schema_part_checks.hpp"

using namespace fedactor;

TEST_CASE(
    "schema selection_keys holds the selection part of the table in order and round-trips defaults",
    "[scenario]") {
  testing::check_schema_part(
      schema::detail::selection_keys(),
      {"selection", "pool", "protocol", "clock", "async", "devices", "faults"},
      "selection.strategy", "faults.on_edge_loss");
}
