// Tests of actors/evaluator.*: test-split and per-client evaluation through the actor.

#include "actors/evaluator.hpp"

#include <set>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

// Two features, label = x0 + x1 > 0 with a margin; clients draw from their own stream,
// the test split from another. Learnable to 100 percent by logistic regression.
class separable_source : public data_source {
 public:
  uint32_t num_samples(uint64_t client) const override { return 20 + client % 5; }
  client_dataset make(uint64_t client) const override { return draw(num_samples(client), client); }
  uint32_t features() const override { return 2; }
  uint32_t classes() const override { return 2; }
  std::optional<client_dataset> test_set() const override { return draw(500, 1000000); }

 private:
  static client_dataset draw(uint32_t n, uint64_t stream) {
    client_dataset d;
    d.features = 2;
    rng r{stream_key(5, 6, stream)};
    while (d.size() < n) {
      const float a = static_cast<float>(r.normal());
      const float b = static_cast<float>(r.normal());
      if (std::fabs(a + b) < 0.5f) continue;
      d.x.push_back(a);
      d.x.push_back(b);
      d.y.push_back(a + b > 0 ? 1 : 0);
    }
    return d;
  }
};

class no_test_source : public separable_source {
 public:
  std::optional<client_dataset> test_set() const override { return std::nullopt; }
};

eval_res ask(caf::actor_system& sys, const evaluator_actor& ev, eval_ins ins, caf::error* err) {
  caf::scoped_actor self{sys};
  eval_res out;
  self->request(ev, std::chrono::seconds(60), std::move(ins))
      .receive([&](eval_res& r) { out = r; }, [&](caf::error& e) { *err = e; });
  return out;
}

}  // namespace

TEST_CASE("evaluator reports test accuracy and mean client accuracy of a perfect model",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  model_spec spec{2, {}, 2};
  // Logits (x0 + x1, -(x0 + x1)) scaled: class 1 wins exactly when x0 + x1 > 0.
  std::vector<float> perfect{-4, -4, 4, 4, 0, 0};
  evaluator_config ec;
  ec.spec = spec;
  ec.data = std::make_shared<separable_source>();
  ec.population = 50;
  ec.clients = 8;
  ec.seed = 3;
  auto ev = spawn_evaluator(sys, ec);
  caf::error err;
  auto res = ask(sys, ev, eval_ins{7, param_blob{perfect}}, &err);
  REQUIRE_FALSE(err);
  CHECK(res.round == 7);
  CHECK(res.samples == 500);
  CHECK(res.accuracy == 1.0);
  CHECK(res.loss < 0.02);
  CHECK(res.clients == 8);
  CHECK(res.client_accuracy == 1.0);
  // A model that always answers class 0 is right on about half.
  res = ask(sys, ev, eval_ins{8, param_blob{std::vector<float>{0, 0, 0, 0, 1, 0}}}, &err);
  REQUIRE_FALSE(err);
  CHECK(res.accuracy > 0.35);
  CHECK(res.accuracy < 0.65);
  caf::anon_send_exit(ev, caf::exit_reason::user_shutdown);
}

TEST_CASE("evaluator without a test split reports zero samples and still evaluates clients",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  evaluator_config ec;
  ec.spec = model_spec{2, {}, 2};
  ec.data = std::make_shared<no_test_source>();
  ec.population = 3;
  ec.clients = 10;  // more than the population: all 3 are evaluated
  auto ev = spawn_evaluator(sys, ec);
  caf::error err;
  auto res = ask(sys, ev, eval_ins{1, param_blob{std::vector<float>{-4, -4, 4, 4, 0, 0}}}, &err);
  REQUIRE_FALSE(err);
  CHECK(res.samples == 0);
  CHECK(res.clients == 3);
  CHECK(res.client_accuracy == 1.0);
  caf::anon_send_exit(ev, caf::exit_reason::user_shutdown);
}

TEST_CASE("evaluator turns a wrong-size model into an error value", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  evaluator_config ec;
  ec.spec = model_spec{2, {}, 2};
  ec.data = std::make_shared<separable_source>();
  auto ev = spawn_evaluator(sys, ec);
  caf::error err;
  ask(sys, ev, eval_ins{1, param_blob{std::vector<float>(5, 0.0f)}}, &err);
  REQUIRE(err);
  CHECK(describe(err) == "training_failed: evaluation: model has 5 parameters, expected 6");
  caf::anon_send_exit(ev, caf::exit_reason::user_shutdown);
}

TEST_CASE("clients evaluated per round are distinct, ascending and fixed by seed and round",
          "[actors]") {
  auto a = eval_clients_for_round(1, 5, 1000000, 50);
  REQUIRE(a.size() == 50);
  CHECK(std::set<uint64_t>(a.begin(), a.end()).size() == 50);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(a.back() < 1000000);
  CHECK(a == eval_clients_for_round(1, 5, 1000000, 50));
  CHECK(a != eval_clients_for_round(1, 6, 1000000, 50));
  CHECK(eval_clients_for_round(1, 5, 4, 10) == std::vector<uint64_t>{0, 1, 2, 3});
  CHECK(eval_clients_for_round(1, 5, 4, 0).empty());
}
