#pragma once

// A middle edge's child edges in an aggregation tree (docs/deployment.md): which child's
// subtree hosts which client ids. The edge node adds and removes children and updates what
// they cover (messages/tree.hpp); the edge actor asks it where to send each client of a round.
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "actors/edge.hpp"

namespace fedactor {

class edge_children {
 public:
  struct route {
    uint32_t id = 0;
    edge_actor edge;
  };

  // Child `id` joined (a child with that id already here is replaced: it came back).
  void add(uint32_t id, edge_actor edge, caf::actor control, std::vector<uint32_t> covers,
           std::string name);
  // Child `id`, whose node is `control`, covers `covers` now; false: no such child.
  bool set_cover(uint32_t id, const caf::actor_addr& control, std::vector<uint32_t> covers);
  // The child whose node is `control` is gone: its id, or nullopt when it was not here.
  std::optional<uint32_t> remove(const caf::actor_addr& control);
  // The child whose subtree hosts `client` (the latest to join where covers overlap).
  std::optional<route> find(uint32_t client) const;
  // What all children cover, pairs first, last (in join order, not merged).
  std::vector<uint32_t> covers() const;
  // The children's edge nodes (node_shutdown goes to them).
  std::vector<caf::actor> controls() const;
  // The name given at join, or "child edge N" when gone.
  std::string name_of(uint32_t id) const;
  size_t size() const;

 private:
  struct entry {
    uint32_t id;
    edge_actor edge;
    caf::actor control;
    std::vector<uint32_t> covers;
    std::string name;
  };
  mutable std::mutex mu_;
  std::vector<entry> entries_;  // in join order
};

// Why `covers` is no list of client id ranges of a population of `clients` (pairs first <=
// last < clients, at most max_cover_ranges pairs), or empty.
std::string cover_problem(const std::vector<uint32_t>& covers, uint64_t clients);

}  // namespace fedactor
