// The edge actor's async task path (actors/edge_async_tasks.cpp), through the edge: results
// forwarded or refused with their reason, models kept by version and resolved by reference,
// pre-aggregation groups answered once complete.

#include "actors/edge_async_tasks.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <catch2/catch.hpp>

#include "actors/edge.hpp"
#include "actors/trainer.hpp"
#include "messages/async.hpp"
#include "messages/errors.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "tests/support/actor_helpers.hpp"
#include "tests/support/edge_helpers.hpp"

using namespace fedactor;
using fedactor::testing::faulty_source;
using fedactor::testing::make_task;
using fedactor::testing::reaper;
using fedactor::testing::request_for;
using fedactor::testing::teacher_cfg;

TEST_CASE("an async edge answers a client result it refused with the refusal's reason code",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<faulty_source>();
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 1);
  auto e = spawn_edge(sys, edge_config{0, 8, data, trainers});
  caf::scoped_actor self{sys};
  // Client 4 claims 10 samples where the edge's records say 100; client 1 trains as it should;
  // client 2 throws (a failure, not a refused result).
  for (uint32_t client : {4u, 1u, 2u}) {
    std::optional<async_res> got;
    std::string failure;
    self->request(e, std::chrono::seconds(60), make_task(spec, 10 + client, client))
        .receive([&](async_res& r) { got = std::move(r); },
                 [&](caf::error& err) { failure = describe(err); });
    INFO(client);
    if (client == 2) {
      CHECK_FALSE(got);
      CHECK(failure.find("client 2: ") != std::string::npos);
      continue;
    }
    REQUIRE(got);
    CHECK(got->seq == 10 + client);
    CHECK(got->client == client);
    if (client == 1) {
      CHECK(std::holds_alternative<async_update>(got->outcome));
      continue;
    }
    REQUIRE(std::holds_alternative<async_refused>(got->outcome));
    const auto& r = std::get<async_refused>(got->outcome);
    CHECK(r.reason == static_cast<uint8_t>(result_refusal::wrong_samples));
    CHECK(r.what == "client 4: rejected update: claims 10 samples, registry says 100");
  }
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE(
    "an async edge keeps the models a remote server sent by version, trains references on "
    "one shared buffer and refuses a reference it cannot match",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  // A stand-in client: records the model buffer of every task it gets and answers with that
  // model unchanged, as a client that took no step.
  struct seen {
    std::vector<const std::vector<float>*> buffers;
    std::vector<std::vector<float>> models;
  };
  auto log = std::make_shared<seen>();
  auto client = sys.spawn([log, data](client_actor::pointer) -> client_actor::behavior_type {
    return {[log, data](train_ins& ins) -> train_res {
      log->buffers.push_back(ins.model.shared().get());
      log->models.push_back(ins.model.values());
      train_res r;
      r.round = ins.round;
      r.client = ins.client;
      r.model_version = ins.model_version;
      r.num_samples = data->num_samples(ins.client);
      r.params = ins.model;
      return r;
    }};
  });
  edge_config ec{0, 4, data, caf::actor{}};
  ec.provider = [client](uint32_t) { return client; };
  ec.model_window = 1;  // the newest version and the one below it
  auto e = spawn_edge(sys, ec);
  caf::scoped_actor self{sys};
  uint64_t seq = 0;
  // Sends one task of `version`: the model carried (with its digest) or, when `model` is empty,
  // a reference with `digest`. The error's text when it fails, else empty.
  auto send = [&](uint64_t version, std::vector<float> model, const std::string& digest) {
    auto task = make_task(spec, ++seq, 1);
    task.base_version = version;
    task.model_by_reference = model.empty();
    task.model = model.empty() ? param_blob{} : param_blob{std::move(model)};
    task.model_digest = digest;
    std::string failure;
    self->request(e, std::chrono::seconds(60), task)
        .receive(
            [&](async_res& r) {
              CHECK(r.seq == seq);
              CHECK(std::holds_alternative<async_update>(r.outcome));
            },
            [&](caf::error& err) { failure = describe(err); });
    return failure;
  };
  const std::vector<float> m0 = {1.0f, 2.0f}, m1 = {3.0f, 4.0f}, m2 = {5.0f, 6.0f};
  const auto d0 = model_digest(param_blob{m0});
  const auto d1 = model_digest(param_blob{m1});
  const auto d2 = model_digest(param_blob{m2});

  // Version 0 carried, then twice by reference: three trainings on one buffer.
  CHECK(send(0, m0, d0).empty());
  CHECK(send(0, {}, d0).empty());
  CHECK(send(0, {}, d0).empty());
  REQUIRE(log->buffers.size() == 3);
  CHECK(log->buffers[1] == log->buffers[0]);
  CHECK(log->buffers[2] == log->buffers[0]);
  CHECK(log->models[2] == m0);

  // The right version with another digest (other bytes under version 0): refused, not trained.
  auto missing = send(0, {}, d1);
  CHECK(missing.find("model_missing") != std::string::npos);
  CHECK(missing.find("edge 0: task 4 of model version 0: no model held with digest " + d1) !=
        std::string::npos);
  // A carried model that does not match its digest; a reference without a digest; a digest
  // that is no SHA-256: refused, not trained.
  CHECK(send(1, m1, d0).find("the model does not match its digest") != std::string::npos);
  CHECK(send(0, {}, "").find("a reference without a digest") != std::string::npos);
  CHECK(send(0, m0, "abc").find("a model digest of 3 characters, expected 64") !=
        std::string::npos);
  CHECK(log->buffers.size() == 3);

  // Window 1: versions 1 and 2 carried evict version 0; version 1 still goes by reference.
  CHECK(send(1, m1, d1).empty());
  CHECK(send(2, m2, d2).empty());
  CHECK(send(0, {}, d0).find("model_missing") != std::string::npos);
  CHECK(send(1, {}, d1).empty());
  REQUIRE(log->models.size() == 6);
  CHECK(log->models[5] == m1);
  CHECK(log->buffers[5] == log->buffers[3]);
  // Carried again after the refusal (as the server resends it), version 0 is back... below the
  // window: trained on the model it carries, but not kept.
  CHECK(send(0, m0, d0).empty());
  CHECK(send(0, {}, d0).find("model_missing") != std::string::npos);
  REQUIRE(log->models.size() == 7);
  CHECK(log->models[6] == m0);

  // A task without a digest (a server in this process): trained as it came.
  CHECK(send(9, {7.0f, 8.0f}, "").empty());
  REQUIRE(log->models.size() == 8);
  CHECK(log->models[7] == std::vector<float>{7.0f, 8.0f});
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

namespace {

// A stand-in client: answers every task with its model + 0.5, the client's sample count and
// loss 0.25, as if it had trained; client 5's training fails.
client_actor::behavior_type half_step(client_actor::pointer,
                                      std::shared_ptr<const data_source> data) {
  return {[data](train_ins& ins) -> caf::result<train_res> {
    if (ins.client == 5) return make_error(errc::training_failed, "out of memory");
    train_res r;
    r.round = ins.round;
    r.client = ins.client;
    r.model_version = ins.model_version;
    r.num_samples = data->num_samples(ins.client);
    r.loss = 0.25;
    std::vector<float> params(ins.model.values());
    for (auto& p : params) p += 0.5f;
    r.params = param_blob{std::move(params)};
    return r;
  }};
}

}  // namespace

TEST_CASE(
    "an edge answers a complete pre-aggregation group: the aggregate to the member finishing "
    "last, held to the others, the failure to a member whose training failed",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto client = keep(sys.spawn(half_step, std::shared_ptr<const data_source>{data}));
  edge_config ec{0, 4, data, caf::actor{}};
  ec.provider = [client](uint32_t) { return client; };
  auto e = keep(spawn_edge(sys, ec));
  caf::scoped_actor self{sys};
  // Group 7: clients 1, 2, 3 and 5 (whose training fails) finishing at simulated times 3, 1,
  // 2 and 4; the group closed at 4 members, in any order with the tasks.
  const std::map<uint64_t, std::pair<uint32_t, double>> tasks{
      {101, {1, 3.0}}, {102, {2, 1.0}}, {103, {3, 2.0}}, {104, {5, 4.0}}};
  for (const auto& [seq, member] : tasks) {
    auto task = make_task(spec, seq, member.first);
    task.group = 7;
    task.finish = member.second;
    request_for<async_res>(sys, caf::actor_cast<caf::actor>(self), e, task);
  }
  caf::anon_send(e, group_close{7, 4});
  std::map<uint64_t, async_res> answers;
  std::vector<std::string> failures;
  for (int i = 0; i < 4; ++i)
    self->receive([&](async_res& r) { answers.emplace(r.seq, std::move(r)); },
                  [&](caf::error& err) { failures.push_back(describe(err)); },
                  caf::after(std::chrono::seconds(20)) >> [] { FAIL("an answer never came"); });
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("client 5: ") != std::string::npos);
  CHECK(failures[0].find("out of memory") != std::string::npos);
  REQUIRE(answers.size() == 3);
  for (auto& [seq, r] : answers) CHECK(r.client == tasks.at(seq).first);
  // Client 1 finishes last among the members folded (client 5 failed): it carries the group.
  CHECK(std::holds_alternative<async_held>(answers[102].outcome));
  CHECK(std::holds_alternative<async_held>(answers[103].outcome));
  REQUIRE(std::holds_alternative<async_group>(answers[101].outcome));
  auto& g = std::get<async_group>(answers[101].outcome);
  auto members = g.members;
  std::sort(members.begin(), members.end());
  CHECK(members == std::vector<uint64_t>{101, 102, 103});
  const size_t n = spec.num_params();
  CHECK(g.update_bytes == 3 * 4 * n);  // three uncompressed models
  // Σ n·Δ over the three members, each Δ = 0.5 in every value, weights their sample counts.
  auto acc = weighted_accumulator::deserialize(g.aggregate.data(), g.aggregate.size());
  REQUIRE(acc);
  CHECK(acc->count() == 3);
  CHECK(acc->weight() ==
        double(data->num_samples(1)) + data->num_samples(2) + data->num_samples(3));
  CHECK(acc->scalar_mean() == Approx(0.25));
  auto mean = acc->mean();
  REQUIRE(mean.size() == n);
  for (auto v : mean) REQUIRE(v == Approx(0.5).margin(1e-6));
}
