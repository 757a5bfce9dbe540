#pragma once

// Where a peer node is connected from, for refusal lines ("IP:port"): CAF's BASP broker is asked
// for its direct connection to the node (libcaf_io 0.17.6 answers get_atom with the remote
// address and port). A node listening in plain TCP behind its BASP guard sees the guard's relay
// (127.0.0.1 and a relay port); `guarded` then names the peer the guard relays that port for
// (guarded_peer_origin). Empty when the broker knows no connection to the node (it is gone, or
// reached only through another node) or does not answer within `timeout`.
//
// Blocks the calling thread for the broker's answer (a scoped actor): meant for rare events
// (a join, a refusal line), not per message.

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/node_id.hpp>

namespace fedactor {

std::string peer_address(caf::actor_system& sys, const caf::node_id& node, bool guarded,
                         std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace fedactor
