#pragma once

// Edge node -> client host (host_link -> client_host, docs/communication.md "Host
// aggregation"): one sync round's clients that a client host serves, in one message per host
// and round. The host trains them and answers one edge_res, as a child edge of an aggregation
// tree does: the exact aggregate of their updates, per-client reports (id, samples, loss) and
// failures by code, no per-client parameters. The model crosses the link at most once per
// version, as with host_task: in full the first time, then by reference (version + digest),
// which the host resolves from its model cache or answers with errc::model_missing.

#include <string>

#include <caf/meta/type_name.hpp>

#include "messages/edge.hpp"

namespace fedactor {

struct host_batch {
  edge_ins ins;  // the round's task for this host's clients; its model empty when by reference
  // SHA-256 (hex) of the round's model bytes (runtime/host/model_cache.hpp: model_digest).
  std::string model_digest;
  // True: the model is the one the host holds for ins.model_version with model_digest.
  bool model_by_reference = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, host_batch& x) {
  return f(caf::meta::type_name("host_batch"), x.ins, x.model_digest, x.model_by_reference);
}

}  // namespace fedactor
