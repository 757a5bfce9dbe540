#pragma once

// Host aggregation at the edge actor (docs/communication.md; internal to the edge's sources,
// like actors/edge_state.hpp): whether a sync round sends the clients of remote client hosts to
// them in batches, and a batch sent and its answer (one aggregate for the host's clients)
// checked against the edge's record (runtime/protocol/host_batch_check) and folded as a child
// edge's.

#include <cstdint>
#include <vector>

#include "actors/edge_state.hpp"

namespace fedactor::edge_detail {

// Whether this round's clients on client hosts go to them in batches (host aggregation); the
// reason it does not is logged once (until it changes).
bool by_host(edge_ptr self, const edge_ins& ins);

// Sends a client host its clients `ids` of the round in progress as one batch (host
// aggregation); its answer is checked, then folded as a child edge's. A batch that fails (the
// host lost, a timeout) fails its clients with the error's code.
void send_batch(edge_ptr self, const batch_actor& host, std::vector<uint32_t> ids);

}  // namespace fedactor::edge_detail
