// The edge node's client-host registry, its directory and the links to remote hosts.

#include "actors/edge_node.hpp"

#include <algorithm>
#include <chrono>

#include <caf/node_id.hpp>

#include "messages/errors.hpp"

namespace fedactor {

// -- client_directory ----------------------------------------------------------------------

void client_directory::add(uint32_t first, uint32_t last, client_actor link, std::string peer) {
  std::lock_guard<std::mutex> guard{mu_};
  entries_.push_back(entry{first, last, std::move(link), std::move(peer)});
}

std::string client_directory::peer_of(const caf::actor_addr& link) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& e : entries_)
    if (e.link.address() == link) return e.peer;
  return "a client host no longer registered";
}

void client_directory::remove(const caf::actor_addr& link) {
  std::lock_guard<std::mutex> guard{mu_};
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const entry& e) { return e.link.address() == link; }),
                 entries_.end());
}

client_actor client_directory::find(uint32_t id) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (id >= it->first && id <= it->last) return it->link;
  return {};
}

size_t client_directory::size() const {
  std::lock_guard<std::mutex> guard{mu_};
  return entries_.size();
}

// -- host_link -----------------------------------------------------------------------------

client_actor::behavior_type host_link(client_actor::stateful_pointer<host_link_state> self,
                                      client_host_actor remote, uint32_t first, uint32_t last,
                                      std::shared_ptr<client_directory> directory) {
  auto& st = self->state;
  st.remote = remote;
  st.first = first;
  st.last = last;
  self->monitor(remote);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& s = self->state;
    const std::string why = "client host " + std::to_string(s.first) + "-" +
                            std::to_string(s.last) + " lost (" + describe(msg.reason) + ")";
    // Out of the directory first: whoever gets the errors below and retries finds the ids
    // no longer routed to this host.
    directory->remove(self->address());
    for (auto& [token, rp] : s.pending) rp.deliver(make_error(errc::host_lost, why));
    s.pending.clear();
    self->quit(msg.reason);
  });
  return {
      [=](train_ins& ins) -> caf::result<train_res> {
        auto& s = self->state;
        const uint64_t token = s.next_token++;
        auto rp = self->make_response_promise<train_res>();
        s.pending.emplace(token, rp);
        auto timeout =
            std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(ins.timeout_s));
        self->request(s.remote, timeout, std::move(ins))
            .then(
                [=](train_res& res) {
                  auto it = self->state.pending.find(token);
                  if (it == self->state.pending.end()) return;
                  it->second.deliver(std::move(res));
                  self->state.pending.erase(it);
                },
                [=](caf::error& err) {
                  auto it = self->state.pending.find(token);
                  if (it == self->state.pending.end()) return;
                  it->second.deliver(std::move(err));
                  self->state.pending.erase(it);
                });
        return rp;
      },
  };
}

// -- edge_node -----------------------------------------------------------------------------

namespace {

using node_ptr = edge_node_control_actor::stateful_pointer<edge_node_state>;

constexpr auto shutdown_timeout = std::chrono::seconds(10);

void note(node_ptr self, const std::string& line) {
  if (self->state.cfg.log) self->state.cfg.log(line);
}

// The node's run ends with `reason`; the first end is the one that counts. The server's loss
// ("lost: ...") ends the current watch only: it goes to one await_end (a waiting one, else
// the next), after which the node may reconnect and watch a server again.
void finish(node_ptr self, std::string reason) {
  auto& st = self->state;
  if (!st.end_reason.empty()) return;
  if (reason.rfind("lost", 0) == 0 && !st.end_waiters.empty()) {
    for (auto& rp : st.end_waiters) rp.deliver(reason);
    st.end_waiters.clear();
    return;
  }
  st.end_reason = std::move(reason);
  for (auto& rp : st.end_waiters) rp.deliver(st.end_reason);
  st.end_waiters.clear();
}

std::string range_text(const host_join& j) {
  return std::to_string(j.first) + "-" + std::to_string(j.last);
}

void wake_host_waiters(node_ptr self) {
  auto& w = self->state.host_waiters;
  for (auto it = w.begin(); it != w.end();) {
    if (self->state.joins >= it->first) {
      it->second.deliver(self->state.joins);
      it = w.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

edge_node_control_actor::behavior_type edge_node(node_ptr self, edge_node_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.server && msg.source == st.server.address()) {
      st.server = nullptr;
      finish(self, "lost: the server (" + describe(msg.reason) + ")");
      return;
    }
    for (auto it = st.hosts.begin(); it != st.hosts.end(); ++it) {
      if (it->join.host.address() != msg.source) continue;
      note(self, "client host " + it->join.name + " (" + range_text(it->join) + ") lost (" +
                     describe(msg.reason) +
                     "): its tasks in flight fail; its ids train here "
                     "until it rejoins");
      st.hosts.erase(it);
      return;
    }
  });
  return {
      [=](node_hello& h) -> caf::result<node_welcome> {
        if (h.protocol != node_protocol_version)
          return make_error(errc::bad_request, "protocol version " + std::to_string(h.protocol) +
                                                   ", this edge speaks " +
                                                   std::to_string(node_protocol_version));
        if (h.role != "clients")
          return make_error(errc::bad_request, "an edge takes client hosts; a '" + h.role +
                                                   "' node connects to the server");
        return self->state.cfg.welcome;
      },
      [=](host_join& j) -> node_ack {
        auto& st = self->state;
        if (j.first > j.last || j.last >= st.cfg.clients)
          return node_ack{false, "client ids " + range_text(j) +
                                     (st.cfg.clients == 0
                                          ? std::string{": the scenario has no clients"}
                                          : " outside 0-" + std::to_string(st.cfg.clients - 1))};
        if (!j.host) return node_ack{false, "registration without a host handle"};
        // The same host again (its first answer was lost on the way): the same registration.
        for (auto& h : st.hosts)
          if (h.join.host.address() == j.host.address() && h.join.first == j.first &&
              h.join.last == j.last)
            return node_ack{true, "welcome"};
        auto remote = caf::actor_cast<client_host_actor>(j.host);
        auto link = self->spawn(host_link, remote, j.first, j.last, st.cfg.directory);
        std::string where;
        if (st.cfg.peer_address) where = st.cfg.peer_address(j.host.node());
        st.cfg.directory->add(j.first, j.last, link,
                              "client host " + j.name + " (clients " + range_text(j) + ", node " +
                                  caf::to_string(j.host.node()) +
                                  (where.empty() ? std::string{} : " at " + where) + ")");
        self->monitor(j.host);
        st.hosts.push_back(edge_node_state::host{j, link});
        ++st.joins;
        note(self, "client host " + j.name + " joined: clients " + range_text(j));
        wake_host_waiters(self);
        return node_ack{true, "welcome"};
      },
      [=](node_shutdown& msg) -> caf::result<node_ack> {
        auto& st = self->state;
        auto rp = self->make_response_promise<node_ack>();
        auto pending = std::make_shared<size_t>(st.hosts.size());
        const std::string reason = msg.reason;
        auto done = [=]() mutable {
          rp.deliver(node_ack{true, "bye"});
          finish(self, "shutdown: " + reason);
        };
        if (*pending == 0) {
          done();
          return rp;
        }
        for (auto& h : st.hosts)
          self->request(caf::actor_cast<client_host_actor>(h.join.host), shutdown_timeout,
                        node_shutdown{reason})
              .then(
                  [=](node_ack&) mutable {
                    if (--*pending == 0) done();
                  },
                  [=](caf::error&) mutable {
                    if (--*pending == 0) done();
                  });
        return rp;
      },
      [=](watch_atom, caf::actor server) {
        self->state.server = server;
        self->monitor(server);
      },
      [=](stop_atom, std::string& reason) { finish(self, "stopped: " + reason); },
      [=](hosts_atom, uint32_t n) -> caf::result<uint32_t> {
        auto rp = self->make_response_promise<uint32_t>();
        self->state.host_waiters.emplace_back(n, rp);
        wake_host_waiters(self);
        return rp;
      },
      [=](await_end_atom) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.end_reason.rfind("lost", 0) == 0) {
          // The server's loss ends this watch only: the node may reconnect and watch again.
          auto r = std::move(st.end_reason);
          st.end_reason.clear();
          return r;
        }
        if (!st.end_reason.empty()) return st.end_reason;
        st.end_waiters.push_back(self->make_response_promise<std::string>());
        return st.end_waiters.back();
      },
  };
}

}  // namespace fedactor
