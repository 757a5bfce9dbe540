#pragma once

// Distributed deployment: how nodes find each other.
//
//   edge node   --node_hello-->  server registrar   (answers node_welcome: the scenario)
//   edge node   --edge_join-->   server registrar   (answers node_ack; the server gets the edge)
//   client host --node_hello-->  edge node          (answers node_welcome: the same scenario)
//   client host --host_join-->   edge node          (answers node_ack; the edge routes ids to it)
//   server registrar --node_shutdown--> edge node --node_shutdown--> client host (node_ack)
//   registrar --edge_rejoin--> server actor          (a lost edge came back: its new handle)
//
// Actor handles travel as caf::actor (messages/ knows no actor interfaces); the receiver
// casts them to the typed interface it expects.

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace fedactor {

// The wire protocol version: nodes with another version are refused at hello. 3: edge_res
// carries the edge's refused client results (refused_results). 4: edges take child edges
// (messages/tree.hpp: node_hello role "child-edge", child_join, edge_cover), an edge sends its
// client hosts host_task (messages/host_task.hpp: the model once per version, then a
// reference), and async_res has the outcome async_refused (tag 3), a client result the edge
// refused, with its reason. 5: in sync rounds an edge sends each client host one host_batch
// (messages/host_batch.hpp) and takes one edge_res back (host aggregation). 6: async_ins
// carries the model's digest and may refer to a model version the edge holds instead of
// carrying it (messages/async.hpp).
constexpr uint32_t node_protocol_version = 6;

struct node_hello {
  std::string role;  // "edge", "clients" or "child-edge" (an edge below an edge)
  uint32_t id = 0;   // edge id; first client id for a client host
  uint32_t protocol = node_protocol_version;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("node_hello"), x.role, x.id, x.protocol);
}

struct node_welcome {
  std::string scenario_yaml;  // the effective scenario (to_yaml), overrides applied
  uint32_t edges = 0;         // topology.edges
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_welcome& x) {
  return f(caf::meta::type_name("node_welcome"), x.scenario_yaml, x.edges);
}

struct edge_join {
  uint32_t id = 0;        // which edge of the topology (router index) this node serves
  std::string region;     // informational
  uint32_t capacity = 0;  // client tasks it trains at once
  std::string address;    // where its client hosts connect (informational, for logs)
  caf::actor edge;        // the edge actor (fedactor::edge_actor)
  caf::actor control;     // the edge node (receives node_shutdown)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_join& x) {
  return f(caf::meta::type_name("edge_join"), x.id, x.region, x.capacity, x.address, x.edge,
           x.control);
}

struct host_join {
  uint32_t first = 0;  // client ids first..last (inclusive) train on this host
  uint32_t last = 0;
  std::string name;  // informational, for logs
  caf::actor host;   // the client host actor (fedactor::client_host_actor)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, host_join& x) {
  return f(caf::meta::type_name("host_join"), x.first, x.last, x.name, x.host);
}

struct node_ack {
  bool accepted = true;
  std::string message;  // why not, or a note
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_ack& x) {
  return f(caf::meta::type_name("node_ack"), x.accepted, x.message);
}

// The run is over (or the sender is going away on purpose): the receiver exits cleanly
// instead of trying to rejoin.
struct node_shutdown {
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_shutdown& x) {
  return f(caf::meta::type_name("node_shutdown"), x.reason);
}

// Registrar -> server actor: edge `id` is back (a restarted process, a fresh handle).
struct edge_rejoin {
  uint32_t id = 0;
  caf::actor edge;  // fedactor::edge_actor
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_rejoin& x) {
  return f(caf::meta::type_name("edge_rejoin"), x.id, x.edge);
}

}  // namespace fedactor
