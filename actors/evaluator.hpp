#pragma once

// The evaluator: a detached actor (LibTorch blocks its thread, so it gets its own) that
// holds a local_trainer, the data's test split and the data source. For each eval_ins it
// evaluates the model on the test split (eval_res.samples = 0 when the data has none) and,
// when evaluator_config::clients > 0, on that many clients sampled for the round (local
// data of each, mean accuracy over them). Exceptions become caf::error values
// (errc::training_failed, context "evaluation: …").

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "messages/eval.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

using evaluator_actor = caf::typed_actor<caf::replies_to<eval_ins>::with<eval_res>>;

struct evaluator_config {
  model_spec spec;
  std::shared_ptr<const data_source> data;
  uint64_t population = 0;  // client ids 0..population-1 (eval.clients samples from them)
  uint32_t clients = 0;     // eval.clients: clients evaluated per request; 0 = none
  uint64_t seed = 0;        // scenario seed: the sampled clients depend on (seed, round)
  // FedBN (strategy.normalization local), in process: the clients' own normalisation layers;
  // a client is evaluated with them (its personal model) when the store has them.
  std::shared_ptr<client_state_store> local_layers;
};

// The evaluator settings of a scenario (eval.clients, population, seed); `state` is the
// process's client state store (used under strategy.normalization local), or null.
evaluator_config make_evaluator_config(const scenario& s, model_spec spec,
                                       std::shared_ptr<const data_source> data,
                                       std::shared_ptr<client_state_store> state = nullptr);

// Spawns a detached evaluator. The test split is built on the first request, in the
// evaluator's own thread, and kept.
evaluator_actor spawn_evaluator(caf::actor_system& sys, evaluator_config cfg);

// The clients evaluated for a round: min(n, population) distinct ids, ascending, a pure
// function of (seed, round) (Floyd's sampling, O(n)).
std::vector<uint64_t> eval_clients_for_round(uint64_t seed, uint32_t round, uint64_t population,
                                             uint32_t n);

}  // namespace fedactor
