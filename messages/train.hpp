#pragma once

// Client training: the edge sends train_ins to a client, the client answers train_res.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/exact_double.hpp"
#include "messages/param_blob.hpp"
#include "messages/wire_bounds.hpp"
#include "runtime/compression/update_codec.hpp"

namespace fedactor {

// How a client trains locally (the scenario's training section, as sent on the wire).
struct train_settings {
  uint32_t epochs = 1;
  uint32_t batch_size = 32;
  double lr = 0.01;
  double momentum = 0.9;
  // The client algorithm (runtime/strategy/client_algorithm.hpp), generic: its name and its
  // numbers, e.g. "fedprox" with {"prox_mu": 0.01}; read and checked by the trainer.
  std::string algorithm = "fedavg";
  std::map<std::string, double> params;
  // How the client sends its update (docs/communication.md); kind none = its model as floats.
  compression_settings compression;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compression_settings& x) {
  return f(caf::meta::type_name("compression_settings"), x.kind, x.block, exact(x.density));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, train_settings& x) {
  return f(caf::meta::type_name("train_settings"), x.epochs, x.batch_size, exact(x.lr),
           exact(x.momentum), x.algorithm, exact(x.params), x.compression);
}

struct train_ins {
  uint32_t round = 0;          // round (sync) or dispatch number (async)
  uint32_t client = 0;         // which client trains
  uint64_t model_version = 0;  // version of `model`
  uint64_t task_seed = 0;      // seeds the client's batch order: same seed, same result
  param_blob model;            // global model the client starts from (shared, not copied)
  train_settings settings;
  double timeout_s = 120;  // the task's deadline, counted from its dispatch
  param_blob aux;  // the algorithm's server state for the client (SCAFFOLD: c); may be empty
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, train_ins& x) {
  return f(caf::meta::type_name("train_ins"), x.round, x.client, x.model_version, x.task_seed,
           x.model, x.settings, exact(x.timeout_s), x.aux);
}

struct train_res {
  uint32_t round = 0;
  uint32_t client = 0;
  uint64_t model_version = 0;  // version the client started from
  uint32_t num_samples = 0;    // examples the client trained on (its weight)
  double loss = 0;             // mean training loss over the client's batches
  param_blob params;           // the client's model after local training (empty: compressed)
  param_blob aux;              // the algorithm's extra output (SCAFFOLD: Δc_i); may be empty
  // Compression on (train_settings::compression): the encoded update
  // (runtime/compression/update_compression.hpp) instead of params; its receiver decodes it.
  std::vector<char> update;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, train_res& x) {
  return f(caf::meta::type_name("train_res"), x.round, x.client, x.model_version, x.num_samples,
           exact(x.loss), x.params, x.aux, bounded(x.update));
}

}  // namespace fedactor
