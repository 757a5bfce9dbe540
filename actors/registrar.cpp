// The server node's registrar: edge registration, roster, rejoin forwarding, shutdown.

#include "actors/registrar.hpp"

#include <chrono>
#include <memory>

#include <caf/actor_cast.hpp>

#include "messages/errors.hpp"

namespace fedactor {

namespace {

using registrar_ptr = registrar_control_actor::stateful_pointer<registrar_state>;

constexpr auto shutdown_timeout = std::chrono::seconds(10);

// The part of the server's interface the registrar uses.
using rejoin_sink = caf::typed_actor<caf::reacts_to<edge_rejoin>>;

void note(registrar_ptr self, const std::string& line) {
  if (self->state.cfg.log) self->state.cfg.log(line);
}

bool complete(registrar_ptr self) {
  for (auto& s : self->state.slots)
    if (!s.alive) return false;
  return true;
}

std::vector<edge_join> roster(registrar_ptr self) {
  std::vector<edge_join> out;
  for (auto& s : self->state.slots) out.push_back(s.join);
  return out;
}

void deliver_roster_if_complete(registrar_ptr self) {
  auto& st = self->state;
  if (st.waiting.empty() || !complete(self)) return;
  auto r = roster(self);
  st.handed_out.clear();
  for (auto& j : r) st.handed_out.push_back(j.edge);
  for (auto& p : st.waiting) p.deliver(r);
  st.waiting.clear();
}

node_ack on_join(registrar_ptr self, edge_join& j) {
  auto& st = self->state;
  if (j.id >= st.slots.size())
    return node_ack{
        false, "edge id " + std::to_string(j.id) + " out of range: the scenario has " +
                   std::to_string(st.slots.size()) + " edges" +
                   (st.slots.empty() ? std::string{}
                                     : " (ids 0.." + std::to_string(st.slots.size() - 1) + ")")};
  if (!j.edge || !j.control) return node_ack{false, "registration without actor handles"};
  if (j.id < st.cfg.edge_regions.size()) {
    // Our record of the edge's region, not its word: another one is refused, none takes ours.
    const std::string expected = std::to_string(st.cfg.edge_regions[j.id]);
    if (j.region.empty()) {
      j.region = expected;
    } else if (j.region != expected) {
      return node_ack{false, "edge " + std::to_string(j.id) + " names region '" + j.region +
                                 "', the scenario puts it in region '" + expected +
                                 "' (topology.edge_regions)"};
    }
  }
  auto& slot = st.slots[j.id];
  // The same registration again (its first answer was lost or late): the same answer.
  if (slot.alive && slot.join.edge == j.edge && slot.join.control == j.control)
    return node_ack{true, "welcome"};
  if (slot.alive)
    return node_ack{false, "edge id " + std::to_string(j.id) + " is already registered (" +
                               slot.join.address + ") and alive"};
  const bool rejoin = static_cast<bool>(slot.join.edge);
  slot.join = j;
  slot.alive = true;
  self->monitor(j.edge);
  note(self, std::string{"edge "} + std::to_string(j.id) + (rejoin ? " rejoined" : " joined") +
                 " (clients at " + j.address + ", region '" + j.region + "', capacity " +
                 std::to_string(j.capacity) + ")");
  if (st.server) self->send(caf::actor_cast<rejoin_sink>(st.server), edge_rejoin{j.id, j.edge});
  deliver_roster_if_complete(self);
  return node_ack{true, rejoin ? "welcome back" : "welcome"};
}

}  // namespace

registrar_control_actor::behavior_type registrar(registrar_ptr self, registrar_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.slots.resize(st.cfg.edges);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& s = self->state;
    for (uint32_t id = 0; id < s.slots.size(); ++id) {
      auto& slot = s.slots[id];
      if (!slot.alive || slot.join.edge.address() != msg.source) continue;
      slot.alive = false;
      if (!s.server)
        note(self, "edge " + std::to_string(id) + " lost before the run started (" +
                       describe(msg.reason) + "); waiting for it to rejoin");
    }
  });
  return {
      [=](node_hello& h) -> caf::result<node_welcome> {
        if (h.protocol != node_protocol_version)
          return make_error(errc::bad_request, "protocol version " + std::to_string(h.protocol) +
                                                   ", this server speaks " +
                                                   std::to_string(node_protocol_version));
        if (h.role != "edge")
          return make_error(errc::bad_request,
                            "the server takes edges; a '" + h.role + "' node connects to an edge");
        return node_welcome{self->state.cfg.scenario_yaml, self->state.cfg.edges};
      },
      [=](edge_join& j) -> node_ack { return on_join(self, j); },
      [=](roster_atom) -> caf::result<std::vector<edge_join>> {
        if (!self->state.stopped.empty())
          return make_error(errc::bad_request, "stopped (" + self->state.stopped + ")");
        auto rp = self->make_response_promise<std::vector<edge_join>>();
        self->state.waiting.push_back(rp);
        deliver_roster_if_complete(self);
        return rp;
      },
      [=](serving_atom, caf::actor server) {
        auto& s = self->state;
        s.server = server;
        // Edges that came back between the roster and now: the server has stale handles.
        for (uint32_t id = 0; id < s.slots.size(); ++id) {
          auto& slot = s.slots[id];
          if (slot.alive && (id >= s.handed_out.size() || s.handed_out[id] != slot.join.edge))
            self->send(caf::actor_cast<rejoin_sink>(server), edge_rejoin{id, slot.join.edge});
        }
      },
      [=](stop_atom, std::string& reason) {
        auto& s = self->state;
        if (!s.stopped.empty()) return;
        s.stopped = reason;
        for (auto& p : s.waiting)
          p.deliver(make_error(errc::bad_request, "stopped (" + reason + ")"));
        s.waiting.clear();
      },
      [=](close_atom, std::string& reason) -> caf::result<uint32_t> {
        auto& s = self->state;
        auto rp = self->make_response_promise<uint32_t>();
        auto pending = std::make_shared<size_t>(0);
        auto acked = std::make_shared<uint32_t>(0);
        for (auto& slot : s.slots)
          if (slot.alive) ++*pending;
        if (*pending == 0) {
          rp.deliver(0u);
          return rp;
        }
        for (auto& slot : s.slots) {
          if (!slot.alive) continue;
          self->request(slot.join.control, shutdown_timeout, node_shutdown{reason})
              .then(
                  [=](node_ack&) mutable {
                    ++*acked;
                    if (--*pending == 0) rp.deliver(*acked);
                  },
                  [=](caf::error&) mutable {
                    if (--*pending == 0) rp.deliver(*acked);
                  });
        }
        return rp;
      },
  };
}

}  // namespace fedactor
