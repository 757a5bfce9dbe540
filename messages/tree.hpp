#pragma once

// Aggregation trees (docs/deployment.md): an edge started with --parent registers with a
// parent edge instead of the server.
//
//   child edge --node_hello{"child-edge"}--> parent edge node  (answers node_welcome)
//   child edge --child_join-->               parent edge node  (answers node_ack)
//   child edge --edge_cover-->               parent edge node  (its subtree's clients changed)
//   parent edge --edge_ins--> child edge --edge_res--> parent edge   (one batch per round)
//   parent edge node --node_shutdown--> child edge node (node_ack)
//
// `covers` lists the client id ranges the child's subtree hosts (its client hosts and, below
// them, its own children's), as pairs first, last (inclusive): the parent routes a client to
// the child whose subtree hosts it.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace fedactor {

// Ranges a child may declare (pairs): a bound on what a parent stores per child.
constexpr size_t max_cover_ranges = 4096;

struct child_join {
  uint32_t id = 0;               // the child's --id: unique among its parent's children
  std::string name;              // informational (its region or address), for logs
  std::vector<uint32_t> covers;  // client id ranges of its subtree, pairs first, last
  caf::actor edge;               // the child's edge actor (fedactor::edge_actor)
  caf::actor control;            // the child's edge node (node_shutdown, edge_cover)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_join& x) {
  return f(caf::meta::type_name("child_join"), x.id, x.name, x.covers, x.edge, x.control);
}

struct edge_cover {
  uint32_t id = 0;               // the child's id
  std::vector<uint32_t> covers;  // its subtree's client id ranges now (pairs)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_cover& x) {
  return f(caf::meta::type_name("edge_cover"), x.id, x.covers);
}

}  // namespace fedactor
