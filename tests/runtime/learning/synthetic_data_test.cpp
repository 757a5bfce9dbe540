#include "runtime/learning/synthetic_data.hpp"

#include <set>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("tutorial_random clients have 50-199 samples, 32 features, labels 0-9", "[learning]") {
  data_config cfg;
  tutorial_random_source src{cfg, 0};
  std::set<uint32_t> sizes;
  for (uint64_t id = 0; id < 300; ++id) {
    auto d = src.make(id);
    REQUIRE(d.size() == src.num_samples(id));
    REQUIRE(d.size() >= 50);
    REQUIRE(d.size() < 200);
    REQUIRE(d.features == 32);
    REQUIRE(d.x.size() == size_t{d.size()} * 32);
    for (auto y : d.y) REQUIRE((y >= 0 && y < 10));
    sizes.insert(d.size());
  }
  CHECK(sizes.size() > 50);  // sizes vary across clients
}

TEST_CASE("client data is a pure function of seed and client id", "[learning]") {
  data_config cfg;
  tutorial_random_source a{cfg, 3}, b{cfg, 3}, c{cfg, 4};
  auto d1 = a.make(17), d2 = b.make(17), d3 = c.make(17), d4 = a.make(18);
  CHECK(d1.x == d2.x);
  CHECK(d1.y == d2.y);
  CHECK(d1.x != d3.x);
  CHECK(d1.x != d4.x);
}

TEST_CASE("teacher labels come from the teacher network and use every class", "[learning]") {
  data_config cfg;
  cfg.kind = data_kind::teacher;
  teacher_source src{cfg, 11};
  std::vector<int> counts(10, 0);
  for (uint64_t id = 0; id < 50; ++id) {
    auto d = src.make(id);
    REQUIRE(d.size() == src.num_samples(id));
    for (uint32_t k = 0; k < d.size(); ++k) {
      REQUIRE(d.y[k] == src.label(&d.x[size_t{k} * 32]));
      ++counts[d.y[k]];
    }
  }
  for (int c : counts) CHECK(c > 0);
}
