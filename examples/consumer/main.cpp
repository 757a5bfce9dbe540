// Embeds fedactor from outside its tree (examples/consumer/CMakeLists.txt, docs/embedding.md):
// a small sync federation built in code runs in this program's actor system, and the program
// prints each round and the final model's digest.

#include <cstdio>
#include <exception>

#include <caf/actor_system.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/scenario/load.hpp"

int main() {
  fedactor::scenario s;
  s.name = "consumer";
  s.seed = 11;
  s.population.clients = 100;
  s.data.kind = fedactor::data_kind::teacher;
  s.model.hidden = {16};
  s.topology.edges = 2;
  s.selection.clients_per_round = 10;
  s.pool.max_live_clients = 10;
  s.protocol.rounds = 2;
  if (auto err = fedactor::validate(s)) {
    std::fprintf(stderr, "invalid scenario: %s\n", err->message.c_str());
    return 2;
  }

  fedactor::system_config cfg;
  caf::actor_system sys{cfg};
  fedactor::federation fl{sys, s};
  fl.on_round([](const fedactor::round_record& r) {
    std::printf("round %u: %u clients, mean loss %.4f\n", r.round, r.clients, r.mean_loss);
  });
  try {
    auto result = fl.run();
    std::printf("model sha256 %s (%zu parameters)\n", result.summary.model_sha256.c_str(),
                fl.model().size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
