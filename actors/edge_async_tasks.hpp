#pragma once

// Async tasks at the edge actor (messages/async.hpp; internal to the edge's sources, like
// actors/edge_state.hpp): a task's model resolved (carried, or a reference to a model this edge
// keeps by version), the task queued for a slot, its result forwarded or folded into its group
// (pre-aggregation), and a complete group's members answered.

#include <cstdint>

#include <caf/make_message.hpp>
#include <caf/result.hpp>

#include "actors/edge_state.hpp"

namespace fedactor::edge_detail {

// Queues async task `ins` for a slot; the answer comes when its client is done (or, in a
// group, when the group is complete). Refused: a client outside the population, a model it
// cannot resolve, compression settings it cannot read.
caf::result<async_res> start_task(edge_ptr self, async_ins& ins);

// Answers every member of a complete group: the carrier with the aggregate, the others held.
void flush_if_complete(edge_ptr self, uint64_t group);

}  // namespace fedactor::edge_detail
