#pragma once

// What a client task does around local training for the run's client algorithm
// (strategy.client) and normalisation policy (strategy.normalization), actor-free. The
// trainer asks for a plan before training and hands the result back after it:
//
//   fedavg    plain local SGD from the global model.
//   fedprox   the proximal term μ/2·‖w − w_global‖² (local_train_config::prox_mu).
//   scaffold  option II control variates (Karimireddy et al. 2020, runtime/strategy/scaffold.hpp):
//             the client reads its c_i from the client state store (0 the first time), trains
//             with the correction c − c_i, stores c_i⁺ and sends Δc_i = c_i⁺ − c_i with its
//             update (train_res::aux). c (the server's) arrives with the task (train_ins::aux).
//   local normalisation (FedBN, Li et al. 2021): the client trains from the global model with
//             its own normalisation layers (parameters and running statistics, read from the
//             store; the global ones the first time) and keeps them after training.
//
// The settings travel generically in train_settings (an algorithm name and a map of numbers),
// read here once per task. State lives in the client state store of the process hosting the
// client, so it survives the client actor's eviction and does not need the whole population
// in memory.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/learning/local_training.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

struct client_algorithm_settings {
  client_algorithm kind = client_algorithm::fedavg;
  double prox_mu = 0;       // fedprox
  bool local_norm = false;  // FedBN
};

// The settings of `sc` as train_settings carries them: name and parameters.
std::string algorithm_name(const scenario& sc);
std::map<std::string, double> algorithm_params(const scenario& sc);

// Reads a task's algorithm. nullopt + `error` for an unknown name, a parameter the algorithm
// does not know, or a value out of range (a peer's settings are not trusted).
std::optional<client_algorithm_settings> read_client_algorithm(
    const std::string& name, const std::map<std::string, double>& params, std::string& error);

// One task's preparation: where training starts, and what it adds to each step.
struct client_task_plan {
  std::vector<float> start;       // the model to train from; empty = the global model as sent
  std::vector<float> correction;  // scaffold: c − c_i (spec.num_params() values); empty = none
  std::vector<float> control;     // scaffold: c_i as read (0 the first time)
  std::vector<float> server;      // scaffold: c, as the task carried it
  double prox_mu = 0;
};

// Throws std::invalid_argument when the algorithm needs state and `store` is null, when the
// server's control variate (scaffold) is missing or of the wrong size, or the global model has
// the wrong size; std::runtime_error from the store.
client_task_plan plan_client_task(const client_algorithm_settings& alg, uint32_t client,
                                  const std::vector<float>& global,
                                  const std::vector<float>& server_control, const model_spec& spec,
                                  client_state_store* store);

// After training from the plan: stores the client's new state and returns what it sends
// besides its model (scaffold: Δc_i; otherwise empty). `local_lr`: the task's learning rate.
std::vector<float> finish_client_task(const client_algorithm_settings& alg, uint32_t client,
                                      const client_task_plan& plan,
                                      const std::vector<float>& global,
                                      const local_train_result& result, double local_lr,
                                      const model_spec& spec, client_state_store* store);

// FedBN: the model client `client` uses — the global model with the client's own
// normalisation layers — or nullopt when the store holds none for it (never trained, or no
// normalisation layers). For evaluating clients on their own data.
std::optional<std::vector<float>> personal_model(uint32_t client, const std::vector<float>& global,
                                                 const model_spec& spec, client_state_store& store);

}  // namespace fedactor
