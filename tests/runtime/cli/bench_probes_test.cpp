#include "runtime/cli/bench_probes.hpp"

#include <cmath>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("bench update_pool gives count distinct small updates of dim values, the same each call",
          "[bench]") {
  const auto pool = update_pool(100, 4);
  REQUIRE(pool.size() == 4);
  for (const auto& u : pool) {
    REQUIRE(u.size() == 100);
    for (float v : u) CHECK(std::abs(v) < 0.07f);  // 0.01 x a normal value (|z| < 7)
  }
  for (size_t a = 0; a < pool.size(); ++a) {
    for (size_t b = a + 1; b < pool.size(); ++b) CHECK(pool[a] != pool[b]);
  }
  CHECK(update_pool(100, 4) == pool);
  CHECK(update_pool(100, 2)[1] == pool[1]);  // update u comes from its own stream
}

TEST_CASE("bench probes return a positive finite rate on small inputs", "[bench]") {
  const auto pool = update_pool(64, 32);
  for (double rate :
       {stream_read_bandwidth(2, 1), fold_bandwidth(2, pool), fedbuff_ingest_rate(pool, 500),
        fedbuff_grouped_ingest_rate(pool, 500, 2, 5), region_routing_rate(2000)}) {
    CHECK(std::isfinite(rate));
    CHECK(rate > 0);
  }
}
