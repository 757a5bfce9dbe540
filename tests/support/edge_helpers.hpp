#pragma once

// Test helpers for the edge actor (tests/actors/edge_test.cpp, edge_host_batch_test.cpp,
// edge_async_tasks_test.cpp): the teacher data set, a sync round's edge_ins and an async task
// over the initial model, a round asked of an edge, and a data source with two faulty clients.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/edge.hpp"
#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/errors.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/learning/synthetic_data.hpp"

namespace fedactor::testing {

inline data_config teacher_cfg() {
  data_config dc;
  dc.kind = data_kind::teacher;
  return dc;
}

// Round 1 of `clients` on the initial model of `spec` (seed `seed`): 1 epoch, batch 32,
// lr 0.05, momentum 0.9, 60 s per client.
inline edge_ins make_ins(const model_spec& spec, std::vector<uint32_t> clients, uint64_t seed = 5) {
  edge_ins ins;
  ins.round = 1;
  ins.seed = seed;
  ins.model = param_blob{initial_params(spec, seed)};
  ins.clients = std::move(clients);
  ins.settings = train_settings{1, 32, 0.05, 0.9, "fedavg", {}, {}};
  ins.client_timeout_s = 60;
  return ins;
}

// Async task `seq` of `client` on the initial model of `spec` (seed 5), carried (no digest),
// forwarded (group 0), the training settings of make_ins.
inline async_ins make_task(const model_spec& spec, uint64_t seq, uint32_t client) {
  async_ins task;
  task.seq = seq;
  task.client = client;
  task.model = param_blob{initial_params(spec, 5)};
  task.settings = train_settings{1, 32, 0.05, 0.9, "fedavg", {}, {}};
  task.timeout_s = 60;
  return task;
}

// The edge's answer to round `ins` (the test fails on an error).
inline edge_res ask(caf::actor_system& sys, const edge_actor& e, edge_ins ins) {
  caf::scoped_actor self{sys};
  edge_res out;
  self->request(e, std::chrono::seconds(120), std::move(ins))
      .receive([&](edge_res& r) { out = std::move(r); },
               [&](caf::error& err) { FAIL("edge failed: " << describe(err)); });
  return out;
}

// A data source whose client 2 cannot build its data and whose client 4 lies about its
// size (the registry expects 100, the data has fewer); counts the datasets asked for.
class faulty_source : public teacher_source {
 public:
  faulty_source() : teacher_source(teacher_cfg(), 5) {}
  uint32_t num_samples(uint64_t client) const override {
    return client == 4 ? 100 : teacher_source::num_samples(client);
  }
  client_dataset make(uint64_t client) const override {
    ++made;
    if (client == 2) throw std::runtime_error("disk on fire");
    auto d = teacher_source::make(client);
    if (client == 4) {
      d.y.resize(10);
      d.x.resize(10 * d.features);
    }
    return d;
  }
  mutable std::atomic<int> made{0};  // datasets asked for
};

}  // namespace fedactor::testing
