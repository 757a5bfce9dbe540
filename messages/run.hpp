#pragma once

// What the server answers when a run ends.

#include <cstdint>

#include <caf/meta/type_name.hpp>

#include "messages/param_blob.hpp"

namespace fedactor {

struct run_report {
  uint32_t rounds = 0;  // rounds (sync) or aggregations (async) completed
  uint64_t model_version = 0;
  uint64_t clients_trained = 0;
  uint64_t failures = 0;
  double final_loss = 0;  // mean client loss of the last round
  param_blob model;       // final global model
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_report& x) {
  return f(caf::meta::type_name("run_report"), x.rounds, x.model_version, x.clients_trained,
           x.failures, x.final_loss, x.model);
}

}  // namespace fedactor
