#pragma once

// Test helper: what an edge_res says about its clients — how many updates its aggregate
// holds, and its failures per code.

#include <cstdint>

#include <catch2/catch.hpp>

#include "messages/edge.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/failure.hpp"

namespace fedactor::testing {

inline uint64_t succeeded(const edge_res& r) {
  auto acc = weighted_accumulator::deserialize(r.aggregate.data(), r.aggregate.size());
  REQUIRE(acc);
  return acc->count();
}

inline failure_counts failed(const edge_res& r) {
  auto f = failure_counts::from_wire(r.failed_by);
  REQUIRE(f);
  return *f;
}

}  // namespace fedactor::testing
