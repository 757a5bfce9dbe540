#pragma once

// The edge node's side of distribution (docs/deployment.md):
//
// - client_directory: which registered client host serves which client ids. The edge asks
//   it for every task (edge_config::provider); ids no live host covers are trained by the
//   edge itself, in client actors it spawns (the in-process behaviour).
// - host_link: a local stand-in for one remote client host, with the client interface. It
//   forwards train_ins as host_task (each request with the task's timeout), the model in full
//   the first time it sends a version and as a reference (version + digest) after that; a
//   host that answers model_missing (it restarted, or evicted the version) gets the same task
//   again with the full model, within the task's original deadline. It monitors the host: when
//   the host's process dies or its connection times out, every task it still owes fails
//   at once ("client host lost") instead of waiting for its timeout, and the link leaves
//   the directory. A sync round's batch for the host (edge_ins, host aggregation) goes as
//   one host_batch, the model once per version in the same way, answered by one edge_res.
// - edge_node: the actor client hosts talk to (node_hello -> scenario, host_join ->
//   node_ack), and the one the server's registrar tells that the run is over; it passes
//   node_shutdown on to its client hosts. In an aggregation tree (messages/tree.hpp) it also
//   takes child edges (node_hello "child-edge", child_join, edge_cover: actors/edge_children)
//   and, when it is itself a child, tells its parent what its subtree covers.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/client.hpp"
#include "actors/client_host.hpp"
#include "actors/edge.hpp"
#include "actors/edge_children.hpp"
#include "messages/atoms.hpp"
#include "messages/node.hpp"
#include "messages/tree.hpp"

namespace fedactor {

// A host link's interface: client tasks (host_task) and sync batches (host_batch).
using host_link_actor = client_actor::extend_with<batch_actor>;

// Thread-safe: the edge_node actor adds and removes entries, the edge reads them.
class client_directory {
 public:
  // Routes ids first..last to `link` (a later registration wins where ranges overlap);
  // `peer` names the client host behind it for logs; `batches` takes the host's sync batches
  // (host aggregation), invalid: none.
  void add(uint32_t first, uint32_t last, client_actor link, std::string peer = {},
           batch_actor batches = {});
  // A host link: its tasks and its batches.
  void add(uint32_t first, uint32_t last, const host_link_actor& link, std::string peer = {});
  void remove(const caf::actor_addr& link);
  // The link covering `id`, or an invalid handle.
  client_actor find(uint32_t id) const;
  // The batch handle of the link covering `id` (host aggregation), or an invalid handle.
  batch_actor find_batch(uint32_t id) const;
  // The peer named when `link` was added; "a client host no longer registered" when it is
  // gone.
  std::string peer_of(const caf::actor_addr& link) const;
  size_t size() const;
  // The ranges of the registered hosts, pairs first, last (registration order).
  std::vector<uint32_t> ranges() const;

 private:
  struct entry {
    uint32_t first;
    uint32_t last;
    client_actor link;
    std::string peer;
    batch_actor batches;
  };
  mutable std::mutex mu_;
  std::vector<entry> entries_;  // newest last
};

struct host_link_state {
  // Model versions sent in full remembered at most (the newest; older ones are sent again).
  static constexpr size_t max_sent_versions = 64;
  client_host_actor remote;
  uint32_t first = 0;
  uint32_t last = 0;
  uint64_t next_token = 0;
  std::unordered_map<uint64_t, caf::typed_response_promise<train_res>> pending;
  std::unordered_map<uint64_t, caf::typed_response_promise<edge_res>> batches;  // host_batch
  // The versions this link sent the host in full, with their digests: a task of such a
  // version and digest goes by reference.
  std::map<uint64_t, std::string> sent;
  // The last model buffer digested and its digest (a sync round's tasks share one buffer).
  std::weak_ptr<const std::vector<float>> digested;
  std::string digest;
  static inline const char* name = "fedactor.host_link";
};

host_link_actor::behavior_type host_link(host_link_actor::stateful_pointer<host_link_state> self,
                                         client_host_actor remote, uint32_t first, uint32_t last,
                                         std::shared_ptr<client_directory> directory);

using edge_node_actor =
    caf::typed_actor<caf::replies_to<node_hello>::with<node_welcome>,
                     caf::replies_to<host_join>::with<node_ack>,
                     caf::replies_to<node_shutdown>::with<node_ack>,
                     caf::replies_to<child_join>::with<node_ack>, caf::reacts_to<edge_cover>>;

using hosts_atom = caf::atom_constant<caf::atom("hosts")>;

using edge_node_control_actor = edge_node_actor::extend<
    // Monitor the server (its registrar): its loss answers one await_end with "lost: ..."
    // (then the node may reconnect and watch a server again).
    caf::reacts_to<watch_atom, caf::actor>,
    // Answered once N client hosts or child edges have joined (counting all joins so far).
    caf::replies_to<hosts_atom, uint32_t>::with<uint32_t>,
    // The node leaves on purpose (a signal): await_end answers "stopped: REASON".
    caf::reacts_to<stop_atom, std::string>,
    // Answered once: "shutdown: REASON", "lost: REASON" or "stopped: REASON".
    caf::replies_to<await_end_atom>::with<std::string>>;

struct edge_node_config {
  uint32_t id = 0;
  node_welcome welcome;  // handed on to client hosts
  uint64_t clients = 0;  // population: valid client ids are 0..clients-1
  std::shared_ptr<client_directory> directory;
  // Child edges (aggregation trees); null: none taken (a child edge's hello is refused).
  std::shared_ptr<edge_children> children;
  // This node is itself a child edge: the actor it watches is its parent's edge node, told
  // with edge_cover whenever what its subtree covers changes.
  bool below_parent = false;
  std::function<void(const std::string&)> log;
  // Where a client host's node connects from ("IP:port"; empty: unknown), for the refusal
  // lines that name the host (runtime/host/peer_address); asked once per join. Empty function:
  // hosts are named by node id alone.
  std::function<std::string(const caf::node_id&)> peer_address;
};

struct edge_node_state {
  edge_node_config cfg;
  struct host {
    host_join join;
    client_actor link;
  };
  std::vector<host> hosts;  // live client hosts
  uint32_t joins = 0;
  std::vector<std::pair<uint32_t, caf::typed_response_promise<uint32_t>>> host_waiters;
  caf::actor server;
  std::vector<caf::typed_response_promise<std::string>> end_waiters;  // await_end callers
  std::string end_reason;  // set once, when the node's run ends (a loss: until await_end)
  static inline const char* name = "fedactor.edge_node";
};

edge_node_control_actor::behavior_type edge_node(
    edge_node_control_actor::stateful_pointer<edge_node_state> self, edge_node_config cfg);

}  // namespace fedactor
