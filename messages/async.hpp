#pragma once

// Asynchronous training (FedBuff): the server sends async_ins for one client task to the
// client's edge; the edge answers async_res when the task is done (see async_outcome).
// Between processes (docs/communication.md) the model crosses the server -> edge link once per
// version: the first task of a version carries it with the SHA-256 of its bytes, later ones
// only the reference (base_version + digest); an edge that cannot match a reference by version
// and digest answers errc::model_missing and the server sends that task again with the model.

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/serializer.hpp>

#include "messages/exact_double.hpp"
#include "messages/param_blob.hpp"
#include "messages/train.hpp"

namespace fedactor {

struct async_ins {
  uint64_t seq = 0;  // dispatch number, unique per run
  uint32_t client = 0;
  uint64_t base_version = 0;  // version of `model`
  uint64_t task_seed = 0;
  double finish = 0;  // simulated finish time (orders a group's answers)
  param_blob model;   // empty when model_by_reference
  train_settings settings;
  double timeout_s = 120;
  uint64_t group = 0;         // 0 = forward the update; else the pre-aggregation group it joins
  bool group_params = false;  // pre-aggregate Σ n·params (delta rule current), else Σ n·Δ
  // SHA-256 (hex) of the model's bytes (runtime/host/model_cache.hpp: model_digest); empty in
  // one process (the edge shares the server's buffer, nothing is hashed or cached). Set: the
  // edge checks a carried model against it and caches it, or resolves a reference by it.
  std::string model_digest;
  bool model_by_reference = false;  // the model is the one the edge holds for base_version
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, async_ins& x) {
  return f(caf::meta::type_name("async_ins"), x.seq, x.client, x.base_version, x.task_seed,
           exact(x.finish), x.model, x.model_digest, x.model_by_reference, x.settings,
           exact(x.timeout_s), x.group, x.group_params);
}

// Closes a pre-aggregation group: it has `size` members, no more will join. The server
// decides group membership (at dispatch), so groups do not depend on arrival timing.
struct group_close {
  uint64_t group = 0;
  uint32_t size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_close& x) {
  return f(caf::meta::type_name("group_close"), x.group, x.size);
}

// What an edge answers for one task: the client's update (forward mode), "held" (its update
// is in its pre-aggregation group), or the group's aggregate (carried by the member that
// finishes last in simulated time). The server keeps its own record of each task (base
// version, client, sample count) and checks the answer against it.
struct async_update {
  uint32_t num_samples = 0;
  double loss = 0;
  param_blob params;  // the client's model after training (empty when compressed)
  // Compression on: the client's encoded update, passed on by the edge as it came; the server
  // decodes it against the task's base model (runtime/compression/update_compression.hpp).
  std::vector<char> update;
};

struct async_held {};

struct async_group {
  std::vector<char> aggregate;    // serialized weighted_accumulator (weights n_i, scalar loss)
  std::vector<uint64_t> members;  // seqs folded into the group, this one included
  uint64_t update_bytes = 0;      // the members' updates as they reached the edge, in bytes
};

// The edge refused the client's result (runtime/protocol/update_check): the reason's code
// (runtime/protocol/result_refusals: wrong_task 0 .. non_finite 4; the server refuses the
// answer for any other) and the edge's one-line text. The task fails as invalid_update at the
// server, which counts the reason in summary.json's refused_results.
struct async_refused {
  uint8_t reason = 0;
  std::string what;
};

using async_outcome = std::variant<async_update, async_held, async_group, async_refused>;

struct async_res {
  uint64_t seq = 0;
  uint32_t client = 0;
  async_outcome outcome;
};

// On the wire: seq, client, a one-byte tag (0 update, 1 held, 2 group, 3 refused) and that
// outcome's fields. An unknown tag fails the deserialization (the message is dropped, never
// handled).
caf::error inspect(caf::serializer& f, async_res& x);
caf::error inspect(caf::deserializer& f, async_res& x);

// For deep_to_string and other read-only inspectors: a summary, not the values.
template <class Inspector>
typename std::enable_if<Inspector::reads_state &&
                            !std::is_base_of<caf::serializer, Inspector>::value,
                        typename Inspector::result_type>::type
inspect(Inspector& f, async_res& x) {
  return f(caf::meta::type_name("async_res"), x.seq, x.client,
           static_cast<uint8_t>(x.outcome.index()));
}

}  // namespace fedactor
