// Tests of runtime/protocol/attack.*: the fixed set of attackers and what each attack sends.

#include "runtime/protocol/attack.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/update_norm.hpp"

using namespace fedactor;

namespace {

attack_config attack(attack_kind kind, double fraction, double scale = 10.0, uint64_t seed = 7) {
  attack_config a;
  a.kind = kind;
  a.fraction = fraction;
  a.scale = scale;
  a.seed = seed;
  return a;
}

}  // namespace

TEST_CASE("the malicious clients are a fixed set of about the fraction, nested as it grows",
          "[protocol][robust]") {
  const auto ten = attack(attack_kind::scale, 0.1);
  const auto thirty = attack(attack_kind::scale, 0.3);
  uint32_t n10 = 0, n30 = 0;
  for (uint64_t c = 0; c < 10000; ++c) {
    const bool m10 = is_malicious(ten, c);
    CHECK(m10 == is_malicious(ten, c));  // same answer every time
    if (m10) CHECK(is_malicious(thirty, c));
    n10 += m10;
    n30 += is_malicious(thirty, c);
  }
  CHECK(n10 > 900);
  CHECK(n10 < 1100);
  CHECK(n30 > 2850);
  CHECK(n30 < 3150);
  CHECK_FALSE(is_malicious(attack(attack_kind::none, 0.5), 3));
  CHECK_FALSE(is_malicious(attack(attack_kind::scale, 0.0), 3));
  uint32_t all = 0;
  for (uint64_t c = 0; c < 100; ++c) all += is_malicious(attack(attack_kind::nan, 1.0), c);
  CHECK(all == 100);
  // Another seed, another set.
  uint32_t differ = 0;
  for (uint64_t c = 0; c < 1000; ++c)
    differ += is_malicious(ten, c) != is_malicious(attack(attack_kind::scale, 0.1, 10, 8), c);
  CHECK(differ > 50);
}

TEST_CASE("scale and sign_flip multiply the client's delta", "[protocol][robust]") {
  const std::vector<float> model{1, 2, 3};
  const std::vector<float> params{2, 2, 1};  // Δ (1, 0, -2)
  CHECK(attacked_params(attack(attack_kind::scale, 1, 10), params.data(), model.data(), 3) ==
        std::vector<float>{11, 2, -17});
  CHECK(attacked_params(attack(attack_kind::sign_flip, 1, 1), params.data(), model.data(), 3) ==
        std::vector<float>{0, 2, 5});
  CHECK(attacked_params(attack(attack_kind::sign_flip, 1, 3), params.data(), model.data(), 3) ==
        std::vector<float>{-2, 2, 9});
  CHECK(attacked_params(attack(attack_kind::label_flip, 1), params.data(), model.data(), 3) ==
        params);
  CHECK(attacked_params(attack(attack_kind::none, 0), params.data(), model.data(), 3) == params);
}

TEST_CASE("nan sends NaN everywhere, backdoor adds a fixed direction of norm scale",
          "[protocol][robust]") {
  const std::vector<float> model(4, 0.0f);
  const std::vector<float> params{1, 1, 1, 1};
  for (float v : attacked_params(attack(attack_kind::nan, 1), params.data(), model.data(), 4))
    CHECK(std::isnan(v));
  const auto a = attack(attack_kind::backdoor, 1, 2.0);
  const auto d = backdoor_direction(a, 4);
  CHECK(d == backdoor_direction(a, 4));
  CHECK(l2_norm(d.data(), 4) == Approx(1.0).epsilon(1e-7));
  for (float v : d) CHECK(std::fabs(v) == 0.5f);  // ±1/√4
  const auto out = attacked_params(a, params.data(), model.data(), 4);
  for (size_t i = 0; i < 4; ++i) CHECK(out[i] == 1.0f + 2.0f * d[i]);
}
