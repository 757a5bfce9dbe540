#pragma once

// Asynchronous training (FedBuff): the server sends async_ins for one client task to the
// client's edge; the edge answers async_res when the task is done — with the update
// (forward mode), or, when pre-aggregating, either "held" (the update is in a group) or
// the group's aggregate (answered to the member that finishes last in simulated time).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/param_blob.hpp"
#include "messages/train.hpp"

namespace fedactor {

struct async_ins {
  uint64_t seq = 0;  // dispatch number, unique per run
  uint32_t client = 0;
  uint64_t base_version = 0;  // version of `model`
  uint64_t task_seed = 0;
  double finish = 0;  // simulated finish time (orders a group's answers)
  param_blob model;
  train_settings settings;
  double timeout_s = 120;
  uint64_t group = 0;         // 0 = forward the update; else the pre-aggregation group it joins
  bool group_params = false;  // pre-aggregate Σ n·params (delta rule current), else Σ n·Δ
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, async_ins& x) {
  return f(caf::meta::type_name("async_ins"), x.seq, x.client, x.base_version, x.task_seed,
           x.finish, x.model, x.settings, x.timeout_s, x.group, x.group_params);
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

enum class async_res_kind : uint8_t { update = 0, held = 1, group = 2 };

struct async_res {
  uint64_t seq = 0;
  uint32_t client = 0;
  uint64_t base_version = 0;
  uint8_t kind = 0;  // async_res_kind
  // update: the client's model after training
  uint32_t num_samples = 0;
  double loss = 0;
  param_blob params;
  // group: serialized weighted_accumulator (weights n_i, scalar loss) and its members
  std::vector<char> aggregate;
  std::vector<uint64_t> members;  // seqs folded into the group, this one included
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, async_res& x) {
  return f(caf::meta::type_name("async_res"), x.seq, x.client, x.base_version, x.kind,
           x.num_samples, x.loss, x.params, x.aggregate, x.members);
}

}  // namespace fedactor
