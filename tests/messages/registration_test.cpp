#include "messages/registration.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <catch2/catch.hpp>

#include "messages/edge.hpp"
#include "messages/run.hpp"
#include "messages/train.hpp"
#include "runtime/host/system_config.hpp"
#include "tests/support/serializer_round_trip.hpp"

using namespace fedactor;

using fedactor::test::round_trip;

TEST_CASE("train_ins and train_res round-trip through the registered serializer", "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  train_ins ins;
  ins.round = 3;
  ins.client = 77;
  ins.model_version = 9;
  ins.task_seed = 123456789;
  ins.model = param_blob{std::vector<float>{0.5f, -1.5f}};
  ins.settings = train_settings{2, 16, 0.05, 0.8, "fedavg", {}, {}};
  ins.timeout_s = 4.5;
  auto a = round_trip(sys, ins);
  CHECK(a.round == 3);
  CHECK(a.client == 77);
  CHECK(a.model_version == 9);
  CHECK(a.task_seed == 123456789);
  CHECK(a.model.values() == ins.model.values());
  CHECK(a.settings.epochs == 2);
  CHECK(a.settings.batch_size == 16);
  CHECK(a.settings.lr == 0.05);
  CHECK(a.settings.momentum == 0.8);
  CHECK(a.timeout_s == 4.5);

  train_res res;
  res.round = 3;
  res.client = 77;
  res.model_version = 9;
  res.num_samples = 120;
  res.loss = 2.25;
  res.params = param_blob{std::vector<float>{1, 2, 3}};
  auto b = round_trip(sys, res);
  CHECK(b.num_samples == 120);
  CHECK(b.loss == 2.25);
  CHECK(b.params.values() == res.params.values());
}

TEST_CASE("edge_ins, edge_res and run_report round-trip through the registered serializer",
          "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  edge_ins ins;
  ins.round = 1;
  ins.model_version = 4;
  ins.seed = 42;
  ins.model = param_blob{std::vector<float>{1.25f}};
  ins.clients = {3, 5, 8};
  ins.client_timeout_s = 7;
  auto a = round_trip(sys, ins);
  CHECK(a.clients == ins.clients);
  CHECK(a.seed == 42);
  CHECK(a.model.values() == ins.model.values());
  CHECK(a.client_timeout_s == 7);

  edge_res res;
  res.round = 1;
  res.edge = 2;
  res.aggregate = {'a', '\0', 'b'};
  res.failed_by = {1, 0, 0, 0, 0};
  res.failures = {"client 5: timeout"};
  res.live_clients = 3;
  res.peak_live_clients = 4;
  res.evictions = 6;
  auto b = round_trip(sys, res);
  CHECK(b.aggregate == res.aggregate);
  CHECK(b.failures == res.failures);
  CHECK(b.failed_by == res.failed_by);
  CHECK(b.peak_live_clients == 4);
  CHECK(b.evictions == 6);

  run_report rep;
  rep.rounds = 5;
  rep.final_loss = 0.5;
  rep.failures_by = {0, 2, 0, 7, 1};
  rep.model = param_blob{std::vector<float>{9}};
  auto c = round_trip(sys, rep);
  CHECK(c.rounds == 5);
  CHECK(c.failures_by == rep.failures_by);
  CHECK(c.model.values() == rep.model.values());
}
