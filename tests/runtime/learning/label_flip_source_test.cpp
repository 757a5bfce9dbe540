// Tests of runtime/learning/label_flip_source.*: the malicious clients' labels are flipped
// (classes − 1 − y), everyone else's data and the test split are untouched.

#include "runtime/learning/label_flip_source.hpp"

#include <catch2/catch.hpp>

#include "runtime/protocol/attack.hpp"

using namespace fedactor;

TEST_CASE("label_flip_source flips the labels of the malicious clients only",
          "[learning][robust]") {
  scenario s;
  s.seed = 4;
  s.population.clients = 50;
  s.data.kind = data_kind::teacher;
  s.data.classes = 5;
  const auto honest = make_data_source(s);
  s.attack.kind = attack_kind::label_flip;
  s.attack.fraction = 0.3;
  s.attack.seed = 2;
  const auto flipped = make_data_source(s);
  REQUIRE(dynamic_cast<const label_flip_source*>(flipped.get()) != nullptr);
  uint32_t malicious = 0;
  for (uint64_t c = 0; c < 50; ++c) {
    const auto a = honest->make(c);
    const auto b = flipped->make(c);
    CHECK(flipped->num_samples(c) == honest->num_samples(c));
    CHECK(b.x == a.x);
    REQUIRE(b.y.size() == a.y.size());
    if (!is_malicious(s.attack, c)) {
      CHECK(b.y == a.y);
      continue;
    }
    ++malicious;
    for (size_t i = 0; i < a.y.size(); ++i) CHECK(b.y[i] == 4 - a.y[i]);
  }
  CHECK(malicious > 5);
  CHECK(flipped->test_set()->y == honest->test_set()->y);
  // Any other attack leaves the data source as it is.
  s.attack.kind = attack_kind::scale;
  CHECK(dynamic_cast<const label_flip_source*>(make_data_source(s).get()) == nullptr);
}
