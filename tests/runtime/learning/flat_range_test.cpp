#include "runtime/learning/flat_range.hpp"

#include <stdexcept>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("extract takes the values inside the ranges in order", "[learning][flat_range]") {
  const std::vector<float> flat = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<flat_range> ranges = {{1, 3}, {6, 7}, {8, 10}};
  CHECK(covered(ranges) == 5);
  CHECK(extract(ranges, flat) == std::vector<float>{1, 2, 6, 8, 9});
  CHECK(extract({}, flat).empty());
  CHECK(extract({{0, 10}}, flat) == flat);
}

TEST_CASE("overlay puts local values in the ranges and keeps the rest of the global vector",
          "[learning][flat_range]") {
  // FedBN: the client keeps its normalisation values (ranges) and takes the rest from the
  // global model.
  const std::vector<float> global = {10, 11, 12, 13, 14, 15};
  const std::vector<float> client = {20, 21, 22, 23, 24, 25};
  const std::vector<flat_range> norm = {{0, 1}, {3, 5}};
  const auto local = extract(norm, client);
  CHECK(local == std::vector<float>{20, 23, 24});
  CHECK(overlay(norm, local, global) == std::vector<float>{20, 11, 12, 23, 24, 15});
  CHECK(overlay({}, {}, global) == global);
  // Round trip: extract of an overlay gives the local values back.
  CHECK(extract(norm, overlay(norm, local, global)) == local);
}

TEST_CASE("bad ranges or a local vector of the wrong size are rejected by name",
          "[learning][flat_range]") {
  const std::vector<float> flat(6, 0.0f);
  CHECK_THROWS_WITH(extract({{2, 2}}, flat), "flat range [2, 2) is empty");
  CHECK_THROWS_WITH(extract({{3, 5}, {1, 2}}, flat),
                    "flat range [1, 2) overlaps or precedes the range before it");
  CHECK_THROWS_WITH(extract({{0, 3}, {2, 4}}, flat),
                    "flat range [2, 4) overlaps or precedes the range before it");
  CHECK_THROWS_WITH(extract({{4, 7}}, flat), "flat range [4, 7) is outside a vector of 6 values");
  CHECK_THROWS_WITH(overlay({{0, 2}}, {1.0f}, flat), "local values: 1, the ranges cover 2");
  CHECK_NOTHROW(check_ranges({{0, 2}, {2, 6}}, 6));  // adjacent is fine
}
