// The edge node's client-host registry, its directory and the links to remote hosts.

#include "actors/edge_node.hpp"

#include <algorithm>
#include <chrono>

#include <caf/node_id.hpp>

#include "messages/errors.hpp"
#include "messages/host_batch.hpp"
#include "runtime/host/model_cache.hpp"

namespace fedactor {

// -- client_directory ----------------------------------------------------------------------

void client_directory::add(uint32_t first, uint32_t last, client_actor link, std::string peer,
                           batch_actor batches) {
  std::lock_guard<std::mutex> guard{mu_};
  entries_.push_back(entry{first, last, std::move(link), std::move(peer), std::move(batches)});
}

void client_directory::add(uint32_t first, uint32_t last, const host_link_actor& link,
                           std::string peer) {
  add(first, last, client_actor{link}, std::move(peer), batch_actor{link});
}

std::string client_directory::peer_of(const caf::actor_addr& link) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& e : entries_)
    if (e.link.address() == link || (e.batches && e.batches.address() == link)) return e.peer;
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

batch_actor client_directory::find_batch(uint32_t id) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (id >= it->first && id <= it->last) return it->batches;
  return {};
}

std::vector<uint32_t> client_directory::ranges() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<uint32_t> out;
  for (auto& e : entries_) {
    out.push_back(e.first);
    out.push_back(e.last);
  }
  return out;
}

size_t client_directory::size() const {
  std::lock_guard<std::mutex> guard{mu_};
  return entries_.size();
}

// -- host_link -----------------------------------------------------------------------------

namespace {

using link_ptr = host_link_actor::stateful_pointer<host_link_state>;

// The digest of `model`, computed once per buffer.
std::string digest_of(link_ptr self, const param_blob& model) {
  auto& s = self->state;
  if (model.shared() && s.digested.lock() == model.shared()) return s.digest;
  s.digest = model_digest(model);
  s.digested = model.shared();
  return s.digest;
}

bool model_missing(const caf::error& err) {
  return err.category() == errc_atom::value &&
         err.code() == static_cast<uint8_t>(errc::model_missing);
}

// Sends `t` (a host_task or host_batch, its full model in t.ins) for the pending request
// `token` of `pending`, by reference when the host was sent this version and digest before; a
// reference the host cannot match is sent again in full. Both attempts end at `deadline`.
template <class Task, class Res>
void send_task(
    link_ptr self, uint64_t token, std::shared_ptr<const Task> t,
    std::chrono::steady_clock::time_point deadline,
    std::unordered_map<uint64_t, caf::typed_response_promise<Res>> host_link_state::*pending) {
  auto& s = self->state;
  const uint64_t version = t->ins.model_version;
  auto known = s.sent.find(version);
  const bool by_reference =
      !t->ins.model.empty() && known != s.sent.end() && known->second == t->model_digest;
  Task out = *t;  // shares the model's buffer
  if (by_reference) {
    out.ins.model = param_blob{};
    out.model_by_reference = true;
  } else if (!t->ins.model.empty()) {
    s.sent[version] = t->model_digest;
    while (s.sent.size() > host_link_state::max_sent_versions) s.sent.erase(s.sent.begin());
  }
  const auto left = std::max(deadline - std::chrono::steady_clock::now(),
                             std::chrono::steady_clock::duration::zero());
  self->request(s.remote, std::chrono::duration_cast<caf::timespan>(left), std::move(out))
      .then(
          [=](Res& res) {
            auto& p = self->state.*pending;
            auto it = p.find(token);
            if (it == p.end()) return;
            it->second.deliver(std::move(res));
            p.erase(it);
          },
          [=](caf::error& err) {
            auto& p = self->state.*pending;
            auto it = p.find(token);
            if (it == p.end()) return;
            if (by_reference && model_missing(err)) {
              auto held = self->state.sent.find(version);
              if (held != self->state.sent.end() && held->second == t->model_digest)
                self->state.sent.erase(held);
              send_task(self, token, t, deadline, pending);
              return;
            }
            it->second.deliver(std::move(err));
            p.erase(it);
          });
}

std::chrono::steady_clock::time_point deadline_in(double seconds) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::duration<double>(seconds));
}

}  // namespace

host_link_actor::behavior_type host_link(link_ptr self, client_host_actor remote, uint32_t first,
                                         uint32_t last,
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
    for (auto& [token, rp] : s.batches) rp.deliver(make_error(errc::host_lost, why));
    s.batches.clear();
    self->quit(msg.reason);
  });
  return {
      [=](train_ins& ins) -> caf::result<train_res> {
        auto& s = self->state;
        const uint64_t token = s.next_token++;
        auto rp = self->make_response_promise<train_res>();
        s.pending.emplace(token, rp);
        const auto deadline = deadline_in(ins.timeout_s);
        auto digest = digest_of(self, ins.model);
        send_task(self, token, std::make_shared<const host_task>(host_task{std::move(ins), digest}),
                  deadline, &host_link_state::pending);
        return rp;
      },
      [=](edge_ins& ins) -> caf::result<edge_res> {
        auto& s = self->state;
        const uint64_t token = s.next_token++;
        auto rp = self->make_response_promise<edge_res>();
        s.batches.emplace(token, rp);
        // At worst the host trains one client at a time, each within the task timeout.
        const auto deadline =
            deadline_in(ins.client_timeout_s * static_cast<double>(ins.clients.size()) + 30);
        auto digest = digest_of(self, ins.model);
        send_task(self, token,
                  std::make_shared<const host_batch>(host_batch{std::move(ins), digest}), deadline,
                  &host_link_state::batches);
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

// What this node's subtree covers: its client hosts' ranges, then its children's.
std::vector<uint32_t> subtree_covers(node_ptr self) {
  auto& cfg = self->state.cfg;
  auto out = cfg.directory->ranges();
  if (cfg.children) {
    auto more = cfg.children->covers();
    out.insert(out.end(), more.begin(), more.end());
  }
  if (out.size() / 2 > max_cover_ranges) out.resize(2 * max_cover_ranges);
  return out;
}

// A child edge tells its parent what its subtree covers now (after a join or a loss below).
void tell_parent(node_ptr self) {
  auto& st = self->state;
  if (!st.cfg.below_parent || !st.server) return;
  self->send(caf::actor_cast<edge_node_actor>(st.server),
             edge_cover{st.cfg.id, subtree_covers(self)});
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
      finish(self,
             std::string{st.cfg.below_parent ? "lost: the parent edge (" : "lost: the server ("} +
                 describe(msg.reason) + ")");
      return;
    }
    for (auto it = st.hosts.begin(); it != st.hosts.end(); ++it) {
      if (it->join.host.address() != msg.source) continue;
      note(self, "client host " + it->join.name + " (" + range_text(it->join) + ") lost (" +
                     describe(msg.reason) +
                     "): its tasks in flight fail; its ids train here "
                     "until it rejoins");
      st.hosts.erase(it);
      tell_parent(self);
      return;
    }
    if (st.cfg.children)
      if (auto id = st.cfg.children->remove(msg.source)) {
        note(self, "child edge " + std::to_string(*id) + " lost (" + describe(msg.reason) +
                       "): its batch in flight and its clients train here until it rejoins");
        tell_parent(self);
      }
  });
  return {
      [=](node_hello& h) -> caf::result<node_welcome> {
        if (h.protocol != node_protocol_version)
          return make_error(errc::bad_request, "protocol version " + std::to_string(h.protocol) +
                                                   ", this edge speaks " +
                                                   std::to_string(node_protocol_version));
        if (h.role == "child-edge" && self->state.cfg.children) return self->state.cfg.welcome;
        if (h.role != "clients")
          return make_error(errc::bad_request,
                            "an edge takes client hosts and child edges (--parent); a '" + h.role +
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
        tell_parent(self);
        note(self, "client host " + j.name + " joined: clients " + range_text(j));
        wake_host_waiters(self);
        return node_ack{true, "welcome"};
      },
      [=](child_join& j) -> node_ack {
        auto& st = self->state;
        if (!st.cfg.children) return node_ack{false, "this edge takes no child edges"};
        if (!j.edge || !j.control) return node_ack{false, "registration without actor handles"};
        if (auto bad = cover_problem(j.covers, st.cfg.clients); !bad.empty())
          return node_ack{false, "child edge " + std::to_string(j.id) + ": " + bad};
        st.cfg.children->add(j.id, caf::actor_cast<edge_actor>(j.edge), j.control, j.covers,
                             j.name);
        self->monitor(j.control);
        ++st.joins;
        note(self, "child edge " + std::to_string(j.id) + " (" + j.name +
                       ") joined: " + std::to_string(j.covers.size() / 2) + " client range" +
                       (j.covers.size() == 2 ? "" : "s"));
        tell_parent(self);
        wake_host_waiters(self);
        return node_ack{true, "welcome"};
      },
      [=](edge_cover& c) {
        auto& st = self->state;
        if (!st.cfg.children) return;
        // Only the child itself may say what it covers, and only within the population.
        if (auto bad = cover_problem(c.covers, st.cfg.clients); !bad.empty()) {
          note(self, "refused what child edge " + std::to_string(c.id) + " covers: " + bad);
          return;
        }
        auto sender = self->current_sender();
        if (!st.cfg.children->set_cover(c.id, sender ? sender->address() : caf::actor_addr{},
                                        std::move(c.covers))) {
          note(self, "refused a cover update for child edge " + std::to_string(c.id) +
                         " from a node that is not that child");
          return;
        }
        tell_parent(self);
      },
      [=](node_shutdown& msg) -> caf::result<node_ack> {
        auto& st = self->state;
        auto rp = self->make_response_promise<node_ack>();
        std::vector<caf::actor> below;
        for (auto& h : st.hosts) below.push_back(h.join.host);
        if (st.cfg.children)
          for (auto& c : st.cfg.children->controls()) below.push_back(c);
        auto pending = std::make_shared<size_t>(below.size());
        const std::string reason = msg.reason;
        auto done = [=]() mutable {
          rp.deliver(node_ack{true, "bye"});
          finish(self, "shutdown: " + reason);
        };
        if (*pending == 0) {
          done();
          return rp;
        }
        for (auto& b : below)
          self->request(caf::actor_cast<edge_node_actor>(b), shutdown_timeout,
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
        tell_parent(self);
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
