#pragma once

// An edge aggregator: trains the clients the server routes to it and folds their updates
// into one streaming aggregate per round. Client actors are created lazily and kept in a
// bounded live set; beyond `capacity` the least recently used idle client is evicted.

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/client.hpp"
#include "messages/edge.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/math/accumulator.hpp"

namespace fedactor {

using edge_actor = caf::typed_actor<caf::replies_to<edge_ins>::with<edge_res>>;

struct edge_config {
  uint32_t id = 0;
  uint32_t capacity = 20;  // live client actors at most
  std::shared_ptr<const data_source> data;
  caf::actor trainers;
};

// Edge state machine:
//
//   idle --edge_ins--> training --(all clients answered or failed)--> idle (edge_res sent)
//
// While training, at most `capacity` clients are in flight; each finished client frees a
// slot for the next one in the round's list.
struct edge_state {
  struct live_client {
    client_actor handle;
    std::list<uint32_t>::iterator lru_pos;  // valid while idle
    bool busy = false;
  };

  edge_config cfg;
  std::unordered_map<uint32_t, live_client> live;
  std::list<uint32_t> idle_lru;  // front = most recently used
  uint64_t evictions = 0;
  size_t peak_live = 0;

  // The round in progress.
  bool busy = false;
  edge_ins ins;
  caf::typed_response_promise<edge_res> promise;
  size_t next = 0;  // index of the next client to dispatch
  size_t in_flight = 0;
  weighted_accumulator acc;
  std::vector<float> delta;  // scratch: one client's update minus the round's model
  edge_res res;

  static inline const char* name = "fedactor.edge";
};

edge_actor::behavior_type edge(edge_actor::stateful_pointer<edge_state> self, edge_config cfg);

// Checks a client's result against the round's request: shape, finite values, sample
// count. Returns an empty string when acceptable, else the reason.
std::string check_update(const train_res& res, const edge_ins& ins, uint32_t expected_samples);

}  // namespace fedactor
