#pragma once

// What a node that trains clients (an edge node, a client-host node) builds from the run's
// scenario once it has it: the clients' data, the model, the client state store when the
// strategy keeps per-client state, and a pool of trainer threads.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "runtime/host/client_state_files.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

struct node_training {
  std::shared_ptr<const data_source> data;
  model_spec spec;
  std::shared_ptr<client_state_store> state;  // null when the scenario needs none
  caf::actor trainers;                        // the pool (spawn_trainer_pool)
};

struct node_training_options {
  // The store file (SCAFFOLD, FedBN); empty: a file in a temporary directory.
  std::filesystem::path state_file;
  uint32_t trainers = 0;  // trainer threads; 0 = the scenario's pool.trainers
};

// The node's training parts for `sc`, or the process exit code after one line to `log`
// ("error: ..."): 1 when the data, the model or the store cannot be set up, 2 when the
// strategy does not fit the model. A temporary store directory is put in `temp`, which must
// outlive the store. A model whose state is not all federated is accepted with a warning line.
std::variant<node_training, int> build_node_training(
    caf::actor_system& sys, const scenario& sc, const node_training_options& opts,
    std::optional<temp_state_dir>& temp, const std::function<void(const std::string&)>& log);

}  // namespace fedactor
