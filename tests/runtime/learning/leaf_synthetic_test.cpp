// Tests of runtime/learning/leaf_synthetic.*.

#include "runtime/learning/leaf_synthetic.hpp"

#include <set>

#include <catch2/catch.hpp>

#include "runtime/learning/local_training.hpp"

using namespace fedactor;

namespace {

data_config leaf(double alpha, double beta) {
  data_config cfg;
  cfg.kind = data_kind::leaf_synthetic;
  cfg.alpha = alpha;
  cfg.beta = beta;
  return cfg;
}

}  // namespace

TEST_CASE("leaf_synthetic clients have 60 features, 10 labels and lognormal sizes from 50",
          "[learning]") {
  leaf_synthetic_source src{leaf(1, 1), 4};
  CHECK(src.features() == 60);
  CHECK(src.classes() == 10);
  CHECK_FALSE(src.test_set());
  std::set<uint32_t> sizes;
  uint32_t above_200 = 0;
  for (uint64_t id = 0; id < 200; ++id) {
    const uint32_t n = src.num_samples(id);
    REQUIRE(n >= leaf_min_samples);
    REQUIRE(n <= leaf_max_samples);
    sizes.insert(n);
    above_200 += n > 200;
  }
  // Median 50 + e^4 ≈ 105; P(size > 200) = P(N(4, 2) > ln 150) ≈ 0.27.
  CHECK(sizes.size() > 100);
  CHECK(above_200 > 25);
  CHECK(above_200 < 85);
  auto d = src.make(3);
  REQUIRE(d.size() == src.num_samples(3));
  CHECK(d.x.size() == size_t{d.size()} * 60);
  for (auto y : d.y) REQUIRE((y >= 0 && y < 10));
}

TEST_CASE("leaf_synthetic data is a pure function of seed and client id", "[learning]") {
  leaf_synthetic_source a{leaf(0.5, 0.5), 1}, b{leaf(0.5, 0.5), 1}, c{leaf(0.5, 0.5), 2};
  CHECK(a.make(7).x == b.make(7).x);
  CHECK(a.make(7).y == b.make(7).y);
  CHECK(a.make(7).x != a.make(8).x);
  CHECK(a.make(7).x != c.make(7).x);
}

TEST_CASE("a leaf_synthetic client's labels come from its own linear model", "[learning]") {
  // Labels are argmax of W x + b, so logistic regression fits a client's data well.
  leaf_synthetic_source src{leaf(0, 0), 9};
  uint64_t id = 0;
  while (src.num_samples(id) < 300) ++id;
  auto d = src.make(id);
  model_spec spec{60, {}, 10};
  local_trainer t{spec};
  local_train_config cfg;
  cfg.lr = 0.05;
  cfg.epochs = 40;
  auto params = t.train(initial_params(spec, 1), d, cfg).params;
  CHECK(t.evaluate(params, d).accuracy > 0.85);
}
