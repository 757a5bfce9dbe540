#pragma once

// Edge node -> client host (host_link -> client_host, docs/communication.md): one client task
// whose model crosses the link at most once per version. The link sends the full model the
// first time, then only a reference (the version, with the digest of the model's bytes); the
// host keeps the models it received by version (runtime/host/model_cache.hpp) and answers a
// reference it cannot match, by version and digest, with errc::model_missing, after which the
// link sends the same task again with the full model.

#include <string>

#include <caf/meta/type_name.hpp>

#include "messages/train.hpp"

namespace fedactor {

struct host_task {
  train_ins ins;  // the task; its model empty when model_by_reference
  // SHA-256 (hex) of the task's model bytes (runtime/host/model_cache.hpp: model_digest),
  // always set: the host checks a carried model against it and matches a reference by it, so
  // a stale or wrong reference never trains.
  std::string model_digest;
  // True: the model is the one the host holds for ins.model_version with model_digest.
  bool model_by_reference = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, host_task& x) {
  return f(caf::meta::type_name("host_task"), x.ins, x.model_digest, x.model_by_reference);
}

}  // namespace fedactor
