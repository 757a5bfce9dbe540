// Tests of actors/client.*: data built on the first task and kept, answers through the
// trainer pool, and errors (wrong id, data that cannot be built, a failing or missing
// trainer) returned to the requester.

#include "actors/client.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/trainer.hpp"
#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "tests/support/actor_helpers.hpp"

using namespace fedactor;
using fedactor::testing::reaper;

namespace {

constexpr auto wait = std::chrono::seconds(60);

using task_atom = caf::atom_constant<caf::atom("task")>;

data_config teacher_cfg() {
  data_config dc;
  dc.kind = data_kind::teacher;
  return dc;
}

// The teacher data, counting the datasets built; client 2's data cannot be built.
class counting_source : public teacher_source {
 public:
  counting_source() : teacher_source(teacher_cfg(), 5) {}
  client_dataset make(uint64_t client) const override {
    ++made;
    if (client == 2) throw std::runtime_error("disk on fire");
    return teacher_source::make(client);
  }
  mutable std::atomic<int> made{0};
};

train_ins task(const model_spec& spec, uint32_t client, uint32_t round) {
  train_ins ins;
  ins.round = round;
  ins.client = client;
  ins.model_version = 40 + round;
  ins.task_seed = 7 + client;
  ins.model = param_blob{initial_params(spec, 5)};
  ins.settings = train_settings{1, 32, 0.05, 0.9, "fedavg", {}, {}};
  ins.timeout_s = 60;
  return ins;
}

// What a trainer was handed: the task's ids, where its data lives and the data itself.
struct seen_task {
  uint32_t client = 0;
  uint32_t round = 0;
  uint64_t data_address = 0;
  std::vector<float> x;
  std::vector<int64_t> y;
};

// A stand-in trainer: tells `notify` (task, client, round, data address, x, y) for every
// task, then answers with the task's ids and the data's size, or (when !ok) with an error.
caf::actor stand_in_trainer(caf::actor_system& sys, caf::actor notify, bool ok) {
  return sys.spawn([=]() -> caf::behavior {
    return {[=](train_task& t) -> caf::result<train_res> {
      caf::anon_send(notify, task_atom::value, t.ins.client, t.ins.round,
                     static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.data.get())), t.data->x,
                     t.data->y);
      if (!ok)
        return make_error(errc::training_failed,
                          "stand-in trainer failed client " + std::to_string(t.ins.client));
      train_res res;
      res.round = t.ins.round;
      res.client = t.ins.client;
      res.model_version = t.ins.model_version;
      res.num_samples = static_cast<uint32_t>(t.data->size());
      res.params = t.ins.model;
      return res;
    }};
  });
}

struct answer {
  train_res res;
  std::string error;  // describe(err), empty when the client answered a train_res
};

answer ask(caf::scoped_actor& self, const client_actor& c, train_ins ins) {
  answer out;
  self->request(c, wait, std::move(ins))
      .receive([&](train_res& r) { out.res = std::move(r); },
               [&](caf::error& err) { out.error = describe(err); });
  return out;
}

seen_task next_task(caf::scoped_actor& self) {
  seen_task out;
  self->receive(
      [&](task_atom, uint32_t client, uint32_t round, uint64_t address, std::vector<float>& x,
          std::vector<int64_t>& y) {
        out = seen_task{client, round, address, std::move(x), std::move(y)};
      },
      caf::after(wait) >> [] { FAIL("the trainer never saw the task"); });
  return out;
}

// Waits until `a` has exited (its state is gone by then).
void await_exit(caf::scoped_actor& self, const caf::actor& a) {
  self->monitor(a);
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {}, caf::after(wait) >> [] { FAIL("the actor never exited"); });
}

}  // namespace

TEST_CASE("a client builds its data on its first task, keeps it and trains through the pool",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 1));
  const auto before = live_client_actors();
  auto c = sys.spawn(client, 7u, std::shared_ptr<const data_source>{data}, trainers,
                     std::shared_ptr<client_state_store>{});
  keep(c);
  CHECK(live_client_actors() == before + 1);
  CHECK(data->made.load() == 0);  // nothing built before the first task
  for (uint32_t round = 1; round <= 2; ++round) {
    auto a = ask(self, c, task(spec, 7, round));
    REQUIRE(a.error.empty());
    CHECK(a.res.client == 7);
    CHECK(a.res.round == round);
    CHECK(a.res.model_version == 40 + round);
    CHECK(a.res.num_samples == data->num_samples(7));
    CHECK(a.res.params.size() == spec.num_params());
    CHECK(data->made.load() == 1);  // built once, kept for the next task
  }
  await_exit(self, caf::actor_cast<caf::actor>(c));
  CHECK(live_client_actors() == before);
}

TEST_CASE("a client hands the trainer the same data it built from the source for every task",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainer = keep(stand_in_trainer(sys, caf::actor_cast<caf::actor>(self), true));
  auto c = keep(sys.spawn(client, 11u, std::shared_ptr<const data_source>{data}, trainer,
                          std::shared_ptr<client_state_store>{}));
  std::vector<seen_task> seen;
  for (uint32_t round = 1; round <= 3; ++round) {
    auto a = ask(self, c, task(spec, 11, round));
    REQUIRE(a.error.empty());
    CHECK(a.res.client == 11);
    CHECK(a.res.round == round);
    CHECK(a.res.num_samples == data->num_samples(11));
    seen.push_back(next_task(self));
    CHECK(seen.back().client == 11);
    CHECK(seen.back().round == round);
  }
  CHECK(data->made.load() == 1);
  REQUIRE(seen.size() == 3);
  CHECK(seen[1].data_address == seen[0].data_address);  // one dataset, shared
  CHECK(seen[2].data_address == seen[0].data_address);
  const auto expected = data->make(11);
  CHECK(seen[0].x == expected.x);
  CHECK(seen[0].y == expected.y);
}

TEST_CASE("a client refuses a task for another client without building its data", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainer = keep(stand_in_trainer(sys, caf::actor_cast<caf::actor>(self), true));
  auto c = keep(sys.spawn(client, 7u, std::shared_ptr<const data_source>{data}, trainer,
                          std::shared_ptr<client_state_store>{}));
  auto a = ask(self, c, task(spec, 8, 1));
  CHECK(a.error == "bad_request: client 7 got a task for client 8");
  CHECK(data->made.load() == 0);
  // Still there: the right task is trained.
  a = ask(self, c, task(spec, 7, 1));
  CHECK(a.error.empty());
  CHECK(a.res.client == 7);
}

TEST_CASE("a client whose data cannot be built answers with an error and stays up", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainer = keep(stand_in_trainer(sys, caf::actor_cast<caf::actor>(self), true));
  auto c = keep(sys.spawn(client, 2u, std::shared_ptr<const data_source>{data}, trainer,
                          std::shared_ptr<client_state_store>{}));
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto a = ask(self, c, task(spec, 2, 1));
    CHECK(a.error == "training_failed: cannot build data: disk on fire");
    CHECK(data->made.load() == attempt);  // nothing was kept: the next task tries again
  }
}

TEST_CASE("a trainer failure comes back to the requester as an error and the client stays up",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainer = keep(stand_in_trainer(sys, caf::actor_cast<caf::actor>(self), false));
  auto c = keep(sys.spawn(client, 5u, std::shared_ptr<const data_source>{data}, trainer,
                          std::shared_ptr<client_state_store>{}));
  for (uint32_t round = 1; round <= 2; ++round) {
    auto a = ask(self, c, task(spec, 5, round));
    CHECK(a.error == "training_failed: stand-in trainer failed client 5");
    auto t = next_task(self);
    CHECK(t.client == 5);
    CHECK(t.round == round);
  }
  CHECK(data->made.load() == 1);
}

TEST_CASE("a client whose trainer is gone answers with an error", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainer = keep(stand_in_trainer(sys, caf::actor_cast<caf::actor>(self), true));
  auto c = keep(sys.spawn(client, 5u, std::shared_ptr<const data_source>{data}, trainer,
                          std::shared_ptr<client_state_store>{}));
  await_exit(self, trainer);
  auto a = ask(self, c, task(spec, 5, 1));
  CHECK(a.error == "request_receiver_down");
}

TEST_CASE("a client prepared ahead builds its data once and answers its size or the failure",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<counting_source>();
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 1));
  caf::scoped_actor self{sys};
  auto prepare = [&](const local_client_actor& c) {
    std::string out;
    self->request(c, wait, prepare_atom::value)
        .receive([&](uint32_t n) { out = std::to_string(n); },
                 [&](caf::error& err) { out = describe(err); });
    return out;
  };
  auto one = keep(sys.spawn(client, 1u, data, trainers, nullptr));
  CHECK(prepare(one) == std::to_string(data->num_samples(1)));
  CHECK(prepare(one) == std::to_string(data->num_samples(1)));
  CHECK(data->made == 1);
  // Its task trains on the data prepared: nothing is built again.
  auto res = ask(self, one, task(spec, 1, 1));
  CHECK(res.error.empty());
  CHECK(data->made == 1);
  auto two = keep(sys.spawn(client, 2u, data, trainers, nullptr));
  CHECK(prepare(two).find("cannot build data: disk on fire") != std::string::npos);
  CHECK(data->made == 2);
}
