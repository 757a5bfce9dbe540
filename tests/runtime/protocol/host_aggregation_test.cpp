// When a sync round may be aggregated on client hosts: by default yes, and no (with the reason)
// for each setting that needs every update at the edge.

#include "runtime/protocol/host_aggregation.hpp"

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("host aggregation is on for a plain mean round and label flipping", "[protocol]") {
  CHECK(host_aggregation_off(true, robust_settings{}, 0, attack_config{}) == std::nullopt);
  attack_config flip;
  flip.kind = attack_kind::label_flip;  // acts on the clients' data, wherever they train
  flip.fraction = 0.5;
  CHECK(host_aggregation_off(true, robust_settings{}, 0, flip) == std::nullopt);
  attack_config nobody;
  nobody.kind = attack_kind::scale;  // nobody malicious
  CHECK(host_aggregation_off(true, robust_settings{}, 0, nobody) == std::nullopt);
}

TEST_CASE("host aggregation is off with the reason where the edge needs every update",
          "[protocol]") {
  CHECK(host_aggregation_off(false, robust_settings{}, 0, attack_config{}) ==
        std::string{"the edge node runs with --host-aggregation off"});
  robust_settings median;
  median.rule = robust_rule_kind::median;
  CHECK(host_aggregation_off(true, median, 0, attack_config{}) ==
        std::string{"robust.rule median needs every update at the edge"});
  robust_settings bound;
  bound.norm_mode = norm_bound_mode::clip;
  bound.norm_bound = 1;
  CHECK(host_aggregation_off(true, bound, 0, attack_config{}) ==
        std::string{"robust.norm_bound is enforced on each update at the edge"});
  CHECK(host_aggregation_off(true, robust_settings{}, 0.5, attack_config{}) ==
        std::string{"DP-FedAvg clips each update at the edge"});
  attack_config scale;
  scale.kind = attack_kind::scale;
  scale.fraction = 0.1;
  CHECK(host_aggregation_off(true, robust_settings{}, 0, scale) ==
        std::string{"attack.kind scale alters each client's answer at the edge"});
}

TEST_CASE("client hosts expect batches in sync runs whose settings allow host aggregation",
          "[protocol]") {
  scenario sc;
  CHECK(host_batches_expected(sc));
  auto async = sc;
  async.protocol.mode = protocol_mode::async;
  CHECK_FALSE(host_batches_expected(async));
  auto median = sc;
  median.robust.rule = robust_rule_kind::median;
  CHECK_FALSE(host_batches_expected(median));
  auto bound = sc;
  bound.robust.norm_bound.mode = norm_bound_mode::clip;
  CHECK_FALSE(host_batches_expected(bound));
  auto dp = sc;
  dp.privacy.mode = privacy_mode::dp_fedavg;
  CHECK_FALSE(host_batches_expected(dp));
  auto scaled = sc;
  scaled.attack.kind = attack_kind::scale;
  scaled.attack.fraction = 0.2;
  CHECK_FALSE(host_batches_expected(scaled));
  auto flip = scaled;
  flip.attack.kind = attack_kind::label_flip;
  CHECK(host_batches_expected(flip));
}
