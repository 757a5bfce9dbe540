// Embedding fedactor in a host program: build a scenario in code, run it inside the
// program's own caf::actor_system, and watch each round through a callback.
//
//   ./build/embed_sync            (3 rounds of the learnable teacher task)

#include <cstdio>
#include <exception>

#include <caf/actor_system.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/scenario/load.hpp"

int main() {
  fedactor::scenario s;
  s.name = "embedded";
  s.seed = 7;
  s.population.clients = 500;
  s.data.kind = fedactor::data_kind::teacher;
  s.model.hidden = {32};
  s.training.lr = 0.05;
  s.topology.edges = 4;
  s.selection.clients_per_round = 40;
  s.pool.max_live_clients = 40;
  s.protocol.rounds = 3;
  if (auto err = fedactor::validate(s)) {
    std::fprintf(stderr, "invalid scenario: %s\n", err->message.c_str());
    return 2;
  }

  fedactor::system_config cfg;  // registers fedactor's messages with CAF
  caf::actor_system sys{cfg};
  fedactor::federation fl{sys, s};
  fl.on_round([](const fedactor::round_record& r) {
    std::printf("round %u: %u clients, %u failures, mean loss %.4f, %.0f clients/s\n", r.round,
                r.clients, r.failures, r.mean_loss, r.clients_per_s);
  });
  try {
    auto result = fl.run();
    std::printf("done: final loss %.4f, model sha256 %s (%zu parameters)\n",
                result.summary.final_loss, result.summary.model_sha256.c_str(), fl.model().size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
