// Tests of messages/eval.hpp: eval_ins and eval_res through the registered serializer.

#include "messages/eval.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/system_config.hpp"
#include "tests/support/serializer_round_trip.hpp"

using namespace fedactor;

using fedactor::test::round_trip;

TEST_CASE("eval_ins and eval_res round-trip through the registered serializer", "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto ins = round_trip(sys, eval_ins{12, param_blob{std::vector<float>{0.25f, -3.0f, 7.5f}}});
  CHECK(ins.round == 12);
  CHECK(ins.model.values() == std::vector<float>{0.25f, -3.0f, 7.5f});
  eval_res res;
  res.round = 12;
  res.loss = 0.375;
  res.accuracy = 0.8125;
  res.samples = 10000;
  res.client_accuracy = 0.75;
  res.clients = 50;
  auto back = round_trip(sys, res);
  CHECK(back.round == 12);
  CHECK(back.loss == 0.375);
  CHECK(back.accuracy == 0.8125);
  CHECK(back.samples == 10000);
  CHECK(back.client_accuracy == 0.75);
  CHECK(back.clients == 50);
}
