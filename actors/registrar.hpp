#pragma once

// The server node's registrar (distributed runs, docs/deployment.md). It hands each edge
// node the scenario (node_hello -> node_welcome), collects one registration per edge id
// (edge_join -> node_ack), tells the host when every edge is in, forwards a lost edge's
// return to the running server (edge_rejoin), and at the end tells every edge node that
// the run is over (node_shutdown). When the scenario puts edges in regions, a registration
// must name its edge's region or none (then the scenario's is used).
//
// Published: registrar_actor (the two requests above). The host holds the full
// registrar_control_actor, whose extra messages are local.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/atoms.hpp"
#include "messages/node.hpp"

namespace fedactor {

using registrar_actor = caf::typed_actor<caf::replies_to<node_hello>::with<node_welcome>,
                                         caf::replies_to<edge_join>::with<node_ack>>;

using roster_atom = caf::atom_constant<caf::atom("roster")>;    // await every edge
using serving_atom = caf::atom_constant<caf::atom("serving")>;  // the server runs
using close_atom = caf::atom_constant<caf::atom("close")>;      // tell the edges: done

using registrar_control_actor = registrar_actor::extend<
    // Answered once every edge id has a live registration: the joins, ordered by id.
    caf::replies_to<roster_atom>::with<std::vector<edge_join>>,
    // From now on edges that come back are forwarded to this server (server_actor).
    caf::reacts_to<serving_atom, caf::actor>,
    // Sends node_shutdown{reason} to every live edge node; answers how many acknowledged.
    caf::replies_to<close_atom, std::string>::with<uint32_t>,
    // The server node stops before the run started: roster requests, waiting or later, fail
    // with bad_request "stopped (REASON)".
    caf::reacts_to<stop_atom, std::string>>;

struct registrar_config {
  std::string scenario_yaml;  // the effective scenario every node runs
  uint32_t edges = 0;         // topology.edges: ids 0..edges-1
  std::function<void(const std::string&)> log;
  // The scenario's region of each edge id (routing region or topology.edge_regions given;
  // runtime/population/region_router.hpp edge_region_list), empty when edges have none. An
  // edge_join naming another region is refused; one naming none takes the scenario's.
  std::vector<uint32_t> edge_regions{};
};

struct registrar_state {
  struct slot {
    edge_join join;  // the latest registration for this id
    bool alive = false;
  };
  registrar_config cfg;
  std::vector<slot> slots;
  std::vector<caf::typed_response_promise<std::vector<edge_join>>> waiting;
  std::vector<caf::actor> handed_out;  // edge handles in the roster the server started with
  caf::actor server;
  std::string stopped;  // the stop's reason, once stopped
  static inline const char* name = "fedactor.registrar";
};

registrar_control_actor::behavior_type registrar(
    registrar_control_actor::stateful_pointer<registrar_state> self, registrar_config cfg);

}  // namespace fedactor
