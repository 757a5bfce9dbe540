// Tests for actors/trainer: the trainer pool answers each train_task with that client's
// result, batched or through LibTorch, and a bad task fails alone.

#include "actors/trainer.hpp"

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

train_task make_task(const param_blob& model, std::shared_ptr<const client_dataset> data,
                     uint32_t client) {
  train_task t;
  t.ins.round = 3;
  t.ins.client = client;
  t.ins.model_version = 2;
  t.ins.task_seed = stream_key(1, rng_tag::shuffle, 3, client);
  t.ins.model = model;
  t.ins.settings = train_settings{1, 32, 0.01, 0.9, "fedavg", {}, {}};
  t.data = std::move(data);
  return t;
}

local_train_config config_of(const train_ins& ins) {
  return local_train_config{ins.settings.epochs, ins.settings.batch_size, ins.settings.lr,
                            ins.settings.momentum, ins.task_seed};
}

struct answer {
  bool ok = false;
  train_res res;
  std::string error;
};

// Sends every task at once (so that they queue up in the trainers' mailboxes), then
// collects the answers in task order.
std::vector<answer> ask_all(caf::actor_system& sys, const caf::actor& pool,
                            const std::vector<train_task>& tasks) {
  caf::scoped_actor self{sys};
  std::vector<answer> out(tasks.size());
  using handle = decltype(self->request(pool, std::chrono::seconds(60), tasks.front()));
  std::vector<handle> handles;
  for (const auto& t : tasks) handles.push_back(self->request(pool, std::chrono::seconds(60), t));
  for (size_t i = 0; i < tasks.size(); ++i) {
    handles[i].receive(
        [&](train_res& r) {
          out[i].ok = true;
          out[i].res = std::move(r);
        },
        [&](caf::error& err) { out[i].error = describe(err); });
  }
  return out;
}

bool same_params(const param_blob& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), b.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the trainer pool answers every queued task with that client's batched result",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  model_spec spec;
  tutorial_random_source src{data_config{}, 1};
  param_blob model{initial_params(spec, 1)};
  std::vector<train_task> tasks;
  for (uint32_t c = 0; c < 40; ++c)
    tasks.push_back(make_task(model, std::make_shared<const client_dataset>(src.make(c)), c));

  batched_trainer reference{spec};
  for (auto placement :
       {trainer_placement::detached, trainer_placement::scheduled, trainer_placement::automatic})
    for (uint32_t chunk : {1u, 16u}) {
      INFO("placement " << static_cast<int>(placement) << ", chunk " << chunk);
      trainer_options opts;
      opts.chunk = chunk;
      opts.placement = placement;
      auto pool = spawn_trainer_pool(sys, spec, 2, opts);
      auto answers = ask_all(sys, pool, tasks);
      for (uint32_t c = 0; c < tasks.size(); ++c) {
        REQUIRE(answers[c].ok);
        const auto& r = answers[c].res;
        CHECK(r.round == 3);
        CHECK(r.client == c);
        CHECK(r.model_version == 2);
        auto expected =
            reference.train_one(model.values(), *tasks[c].data, config_of(tasks[c].ins));
        CHECK(r.num_samples == expected.num_samples);
        CHECK(r.loss == expected.mean_loss);
        CHECK(same_params(r.params, expected.params));
      }
      caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    }
}

TEST_CASE("a trainer with batching off trains with LibTorch, equal to batched within 1e-5",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  model_spec spec;
  tutorial_random_source src{data_config{}, 2};
  param_blob model{initial_params(spec, 2)};
  std::vector<train_task> tasks;
  for (uint32_t c = 0; c < 6; ++c)
    tasks.push_back(make_task(model, std::make_shared<const client_dataset>(src.make(c)), c));
  trainer_options torch_opts;
  torch_opts.batched = false;
  auto torch_pool = spawn_trainer_pool(sys, spec, 1, torch_opts);
  auto batched_pool = spawn_trainer_pool(sys, spec, 1);
  auto a = ask_all(sys, torch_pool, tasks);
  auto b = ask_all(sys, batched_pool, tasks);
  local_trainer direct{spec};
  for (size_t c = 0; c < tasks.size(); ++c) {
    REQUIRE(a[c].ok);
    REQUIRE(b[c].ok);
    auto expected = direct.train(model.values(), *tasks[c].data, config_of(tasks[c].ins));
    CHECK(same_params(a[c].res.params, expected.params));
    for (size_t i = 0; i < expected.params.size(); ++i) {
      const double x = b[c].res.params.data()[i], y = expected.params[i];
      REQUIRE(std::fabs(x - y) <= 1e-5 * std::max(std::fabs(y), 1e-3));
    }
  }
  caf::anon_send_exit(torch_pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(batched_pool, caf::exit_reason::user_shutdown);
}

TEST_CASE("a bad task in a trainer's stash fails alone", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  model_spec spec;
  tutorial_random_source src{data_config{}, 3};
  param_blob model{initial_params(spec, 3)};
  param_blob wrong{std::vector<float>(5, 0.0f)};
  std::vector<train_task> tasks;
  for (uint32_t c = 0; c < 8; ++c)
    tasks.push_back(make_task(model, std::make_shared<const client_dataset>(src.make(c)), c));
  tasks[2].ins.model = wrong;
  tasks[5].data = nullptr;
  auto pool = spawn_trainer_pool(sys, spec, 1);
  auto answers = ask_all(sys, pool, tasks);
  for (size_t c = 0; c < tasks.size(); ++c) {
    INFO("task " << c);
    if (c == 2) {
      CHECK_FALSE(answers[c].ok);
      CHECK(answers[c].error.find("start model has 5 parameters") != std::string::npos);
    } else if (c == 5) {
      CHECK_FALSE(answers[c].ok);
      CHECK(answers[c].error.find("no data") != std::string::npos);
    } else {
      CHECK(answers[c].ok);
    }
  }
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
}

TEST_CASE("models the batched kernels do not support train one by one with LibTorch", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto spec = cnn_spec({1, 16, 16}, 4);
  REQUIRE_FALSE(batched_trainer::supports(spec));
  param_blob model{initial_params(spec, 4)};
  std::vector<train_task> tasks;
  for (uint32_t c = 0; c < 3; ++c) {
    client_dataset d;
    d.features = 256;
    d.shape = {1, 16, 16};
    d.x.resize(20 * 256);
    d.y.resize(20);
    rng r{c};
    for (auto& v : d.x) v = static_cast<float>(r.uniform());
    for (auto& v : d.y) v = static_cast<int64_t>(r.below(4));
    tasks.push_back(make_task(model, std::make_shared<const client_dataset>(std::move(d)), c));
  }
  auto pool = spawn_trainer_pool(sys, spec, 1);
  auto answers = ask_all(sys, pool, tasks);
  local_trainer direct{spec};
  for (size_t c = 0; c < tasks.size(); ++c) {
    REQUIRE(answers[c].ok);
    auto expected = direct.train(model.values(), *tasks[c].data, config_of(tasks[c].ins));
    CHECK(same_params(answers[c].res.params, expected.params));
  }
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
}
