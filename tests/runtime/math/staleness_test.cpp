#include "runtime/math/staleness.hpp"

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

decay_config make_decay(decay_kind kind) {
  decay_config cfg;
  cfg.kind = kind;
  return cfg;
}

}  // namespace

TEST_CASE("decay exponential is base to the staleness", "[math]") {
  decay_config cfg = make_decay(decay_kind::exponential);
  cfg.base = 0.9;
  CHECK(decay_weight(cfg, 0) == 1.0);
  CHECK(decay_weight(cfg, 1) == 0.9);
  CHECK(decay_weight(cfg, 3) == Approx(0.729).epsilon(1e-15));  // 0.9 * 0.9 * 0.9
  cfg.base = 0.5;
  CHECK(decay_weight(cfg, 4) == 0.0625);  // 2^-4, exact
  cfg.base = 1.0;
  CHECK(decay_weight(cfg, 1000) == 1.0);
}

TEST_CASE("decay polynomial is one plus staleness to the minus exponent", "[math]") {
  decay_config cfg = make_decay(decay_kind::polynomial);
  cfg.exponent = 0.5;
  CHECK(decay_weight(cfg, 0) == 1.0);
  CHECK(decay_weight(cfg, 3) == 0.5);                               // 4^-0.5 = 1/2
  CHECK(decay_weight(cfg, 8) == Approx(1.0 / 3.0).epsilon(1e-15));  // 9^-0.5
  cfg.exponent = 2.0;
  CHECK(decay_weight(cfg, 1) == 0.25);  // 2^-2
  cfg.exponent = 0.0;
  CHECK(decay_weight(cfg, 7) == 1.0);
}

TEST_CASE("decay hinge is one up to b then one over a times excess plus one", "[math]") {
  decay_config cfg = make_decay(decay_kind::hinge);
  cfg.a = 10.0;
  cfg.b = 4.0;
  for (uint64_t s = 0; s <= 4; ++s) CHECK(decay_weight(cfg, s) == 1.0);
  CHECK(decay_weight(cfg, 5) == 1.0 / 11.0);  // 1 / (10 * 1 + 1)
  CHECK(decay_weight(cfg, 6) == 1.0 / 21.0);  // 1 / (10 * 2 + 1)
  cfg.a = 0.0;
  CHECK(decay_weight(cfg, 100) == 1.0);  // 1 / (0 + 1)
}

TEST_CASE("decay constant is one at every staleness", "[math]") {
  const decay_config cfg = make_decay(decay_kind::constant);
  CHECK(decay_weight(cfg, 0) == 1.0);
  CHECK(decay_weight(cfg, 7) == 1.0);
  CHECK(decay_weight(cfg, 1000000) == 1.0);
}

TEST_CASE("decay default config is exponential with base 0.9 as in the tutorial", "[math]") {
  const decay_config cfg;
  CHECK(cfg.kind == decay_kind::exponential);
  CHECK(decay_weight(cfg, 2) == Approx(0.81).epsilon(1e-15));
}
