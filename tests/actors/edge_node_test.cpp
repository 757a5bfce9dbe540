// Tests of actors/edge_node.*: the client directory, host links and the edge node's
// messages (hello, host joins, hosts, shutdown, the loss of a host or of the server), in
// one process with stand-in client hosts.

#include "actors/edge_node.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "messages/host_task.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/host/system_config.hpp"
#include "tests/support/actor_helpers.hpp"
#include "tests/support/node_actor_helpers.hpp"

using namespace fedactor;
using fedactor::testing::join;
using fedactor::testing::log_atom;
using fedactor::testing::next_log;
using fedactor::testing::reaper;
using fedactor::testing::refused_hello;
using fedactor::testing::request_for;

namespace {

constexpr auto wait = std::chrono::seconds(60);

using told_atom = caf::atom_constant<caf::atom("told")>;
using held_atom = caf::atom_constant<caf::atom("held")>;

struct host_behaviour {
  bool hold = false;             // keep every task unanswered, tell (held, client)
  bool refuse_shutdown = false;  // answer node_shutdown with an error
};

// A stand-in client host. Tasks (host_task): answered with the client's id, the round and
// 10 × client samples, except client 13 (refused); with `hold`, never answered. Shutdown:
// tells `notify` (told, name, reason), then acknowledges or refuses.
caf::actor stand_in_host(caf::actor_system& sys, std::string name, caf::actor notify,
                         host_behaviour b = {}) {
  return sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    return {
        [=](host_task& t) -> caf::result<train_res> {
          const auto& ins = t.ins;
          if (b.hold) {
            caf::anon_send(notify, held_atom::value, ins.client);
            return self->make_response_promise<train_res>();
          }
          if (ins.client == 13) return make_error(errc::bad_request, "stand-in refuses client 13");
          train_res res;
          res.round = ins.round;
          res.client = ins.client;
          res.num_samples = 10 * ins.client;
          return res;
        },
        [=](node_shutdown& s) -> caf::result<node_ack> {
          caf::anon_send(notify, told_atom::value, name, s.reason);
          if (b.refuse_shutdown) return make_error(errc::bad_request, "stand-in refuses");
          return node_ack{true, "bye"};
        },
    };
  });
}

train_ins task(uint32_t client, double timeout_s = 60) {
  train_ins ins;
  ins.round = 3;
  ins.client = client;
  ins.timeout_s = timeout_s;
  return ins;
}

struct answer {
  train_res res;
  std::string error;  // describe(err), empty when a train_res came back
};

answer ask(caf::scoped_actor& self, const client_actor& c, train_ins ins) {
  answer out;
  self->request(c, wait, std::move(ins))
      .receive([&](train_res& r) { out.res = std::move(r); },
               [&](caf::error& err) { out.error = describe(err); });
  return out;
}

// An edge node with 100 clients whose log lines go to the test actor as (log, line).
edge_node_config node_config(caf::scoped_actor& self, std::shared_ptr<client_directory> dir) {
  auto me = caf::actor_cast<caf::actor>(self);
  edge_node_config cfg;
  cfg.id = 3;
  cfg.welcome = node_welcome{"name: y\n", 4};
  cfg.clients = 100;
  cfg.directory = std::move(dir);
  cfg.log = [me](const std::string& line) { caf::anon_send(me, log_atom::value, line); };
  return cfg;
}

template <class Node>
node_ack shutdown(caf::scoped_actor& self, const Node& node, std::string reason) {
  node_ack out{false, "no answer"};
  self->request(node, wait, node_shutdown{std::move(reason)})
      .receive([&](node_ack& a) { out = a; }, [](caf::error& err) { FAIL(describe(err)); });
  return out;
}

// The text an exit reason becomes in the node's messages.
std::string reason_text(caf::exit_reason r) {
  return describe(caf::make_error(r));
}

}  // namespace

TEST_CASE("the client directory routes an id to the newest registration covering it", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto a = caf::actor_cast<client_actor>(keep(stand_in_host(sys, "a", me)));
  auto b = caf::actor_cast<client_actor>(keep(stand_in_host(sys, "b", me)));
  client_directory dir;
  CHECK(dir.size() == 0);
  CHECK_FALSE(dir.find(0));
  dir.add(0, 49, a);
  dir.add(40, 59, b);  // overlaps a's range: b wins on 40-49
  CHECK(dir.size() == 2);
  CHECK(dir.find(0) == a);
  CHECK(dir.find(39) == a);
  CHECK(dir.find(40) == b);
  CHECK(dir.find(49) == b);
  CHECK(dir.find(59) == b);
  CHECK_FALSE(dir.find(60));
  dir.remove(b.address());
  CHECK(dir.size() == 1);
  CHECK(dir.find(45) == a);
  CHECK_FALSE(dir.find(50));
  dir.remove(b.address());  // not there any more: nothing changes
  CHECK(dir.size() == 1);
  dir.remove(a.address());
  CHECK(dir.size() == 0);
  CHECK_FALSE(dir.find(0));
}

TEST_CASE("a host link forwards tasks and errors and fails a task past its timeout", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto dir = std::make_shared<client_directory>();
  auto host = keep(stand_in_host(sys, "h", me));
  auto link = keep(sys.spawn(host_link, caf::actor_cast<client_host_actor>(host), 0u, 49u, dir));
  auto a = ask(self, link, task(12));
  REQUIRE(a.error.empty());
  CHECK(a.res.client == 12);
  CHECK(a.res.round == 3);
  CHECK(a.res.num_samples == 120);
  a = ask(self, link, task(13));
  CHECK(a.error == "bad_request: stand-in refuses client 13");
  // A host that never answers: the task's own timeout (not the requester's) ends it.
  auto silent = keep(stand_in_host(sys, "s", me, host_behaviour{true, false}));
  auto slow_link =
      keep(sys.spawn(host_link, caf::actor_cast<client_host_actor>(silent), 0u, 49u, dir));
  a = ask(self, slow_link, task(7, 0.05));
  CHECK(a.error == "request_timeout");
}

namespace {

using seen_atom = caf::atom_constant<caf::atom("seen")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;

// A stand-in client host that keeps models by version (model_cache, window 8) as a real host
// does: it tells `notify` (seen, client, by reference, floats carried) for every task, answers
// a reference it cannot match with model_missing and any other task with the model it would
// train on as params. (forget) empties its cache, as a restart would.
caf::actor caching_host(caf::actor_system& sys, caf::actor notify) {
  return sys.spawn([=](caf::event_based_actor*) -> caf::behavior {
    auto cache = std::make_shared<model_cache>(8);
    return {
        [=](host_task& t) -> caf::result<train_res> {
          caf::anon_send(notify, seen_atom::value, t.ins.client, t.model_by_reference,
                         static_cast<uint64_t>(t.ins.model.size()));
          param_blob model = t.ins.model;
          if (t.model_by_reference) {
            auto held = cache->find(t.ins.model_version, t.model_digest);
            if (!held) return make_error(errc::model_missing, "not held");
            model = *held;
          } else {
            cache->put(t.ins.model_version, model, model_digest(model));
          }
          train_res res;
          res.client = t.ins.client;
          res.params = model;
          return res;
        },
        [=](forget_atom) { *cache = model_cache{8}; },
    };
  });
}

}  // namespace

TEST_CASE(
    "a host link sends a model once per version, then references, and the full model again to "
    "a host that lacks it",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto host = keep(caching_host(sys, me));
  auto link = keep(sys.spawn(host_link, caf::actor_cast<client_host_actor>(host), 0u, 49u,
                             std::make_shared<client_directory>()));
  struct seen {
    uint32_t client;
    bool by_reference;
    uint64_t floats;
    bool operator==(const seen& o) const {
      return client == o.client && by_reference == o.by_reference && floats == o.floats;
    }
  };
  auto seen_next = [&] {
    seen out{0, false, 0};
    self->receive(
        [&](seen_atom, uint32_t c, bool r, uint64_t n) {
          out = seen{c, r, n};
        },
        caf::after(std::chrono::seconds(20)) >> [] { FAIL("the host saw no task"); });
    return out;
  };
  auto with_model = [](uint32_t client, uint64_t version, param_blob model) {
    auto ins = task(client);
    ins.model_version = version;
    ins.model = std::move(model);
    return ins;
  };
  const param_blob a{std::vector<float>{1, 2, 3}};
  const param_blob a_copy{std::vector<float>{1, 2, 3}};  // same bytes, another buffer
  const param_blob b{std::vector<float>{4, 5, 6}};       // version 1 again, other bytes
  const param_blob c{std::vector<float>{7, 8, 9}};
  auto trained_on = [&](const train_ins& ins) {
    auto r = ask(self, link, ins);
    REQUIRE(r.error.empty());
    CHECK(r.res.client == ins.client);
    return r.res.params.values();
  };
  // First task of version 1: the model; the next ones (any buffer with its bytes): references.
  CHECK(trained_on(with_model(1, 1, a)) == a.values());
  CHECK(seen_next() == seen{1, false, 3});
  CHECK(trained_on(with_model(2, 1, a)) == a.values());
  CHECK(seen_next() == seen{2, true, 0});
  CHECK(trained_on(with_model(3, 1, a_copy)) == a.values());
  CHECK(seen_next() == seen{3, true, 0});
  // Version 1 with other bytes (a restored server): sent in full, trained on those bytes.
  CHECK(trained_on(with_model(4, 1, b)) == b.values());
  CHECK(seen_next() == seen{4, false, 3});
  // The host lost its cache: the reference is answered model_missing and the task is sent
  // again with the model.
  caf::anon_send(host, forget_atom::value);
  CHECK(trained_on(with_model(5, 1, b)) == b.values());
  CHECK(seen_next() == seen{5, true, 0});
  CHECK(seen_next() == seen{5, false, 3});
  CHECK(trained_on(with_model(6, 1, b)) == b.values());
  CHECK(seen_next() == seen{6, true, 0});
  // A new version goes in full once.
  CHECK(trained_on(with_model(7, 2, c)) == c.values());
  CHECK(seen_next() == seen{7, false, 3});
  CHECK(trained_on(with_model(8, 2, c)) == c.values());
  CHECK(seen_next() == seen{8, true, 0});
}

TEST_CASE(
    "an edge node welcomes client hosts of its protocol and refuses other versions and "
    "roles with the reason",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto node = keep(sys.spawn(edge_node, node_config(self, std::make_shared<client_directory>())));
  node_welcome welcome;
  self->request(node, wait, node_hello{"clients", 0, node_protocol_version})
      .receive([&](node_welcome& w) { welcome = w; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(welcome.scenario_yaml == "name: y\n");
  CHECK(welcome.edges == 4);
  CHECK(refused_hello(self, node, node_hello{"clients", 0, node_protocol_version + 1}) ==
        "bad_request: protocol version " + std::to_string(node_protocol_version + 1) +
            ", this edge speaks " + std::to_string(node_protocol_version));
  CHECK(refused_hello(self, node, node_hello{"edge", 3, node_protocol_version}) ==
        "bad_request: an edge takes client hosts and child edges (--parent); a 'edge' node "
        "connects to the server");
}

TEST_CASE(
    "an edge node routes a joined host's ids through a link and refuses bad joins with the "
    "reason",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto dir = std::make_shared<client_directory>();
  auto node = keep(sys.spawn(edge_node, node_config(self, dir)));
  auto h1 = keep(stand_in_host(sys, "h1", me)), h2 = keep(stand_in_host(sys, "h2", me));
  auto ack = join(self, node, host_join{60, 100, "h1", h1});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "client ids 60-100 outside 0-99");
  ack = join(self, node, host_join{50, 40, "h1", h1});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "client ids 50-40 outside 0-99");
  ack = join(self, node, host_join{0, 49, "h1", nullptr});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "registration without a host handle");
  CHECK(dir->size() == 0);
  ack = join(self, node, host_join{0, 49, "h1", h1});
  CHECK(ack.accepted);
  CHECK(ack.message == "welcome");
  CHECK(next_log(self) == "client host h1 joined: clients 0-49");
  REQUIRE(dir->size() == 1);
  auto link1 = dir->find(0);
  REQUIRE(link1);
  CHECK(dir->find(49) == link1);
  CHECK_FALSE(dir->find(50));
  // The link is not the host itself: it answers for it.
  CHECK(caf::actor_cast<caf::actor>(link1) != h1);
  auto a = ask(self, link1, task(10));
  REQUIRE(a.error.empty());
  CHECK(a.res.client == 10);
  CHECK(a.res.num_samples == 100);
  a = ask(self, link1, task(13));
  CHECK(a.error == "bad_request: stand-in refuses client 13");
  CHECK(join(self, node, host_join{50, 99, "h2", h2}).accepted);
  CHECK(next_log(self) == "client host h2 joined: clients 50-99");
  CHECK(dir->size() == 2);
  auto link2 = dir->find(99);
  REQUIRE(link2);
  CHECK(link2 != link1);
  CHECK(dir->find(50) == link2);
  CHECK(ask(self, link2, task(99)).res.num_samples == 990);
}

// A host whose first answer was lost (the connection died while it travelled) joins again:
// the same registration, not a second link.
TEST_CASE("an edge node takes a repeated join of the same host as the same registration",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto dir = std::make_shared<client_directory>();
  auto node = keep(sys.spawn(edge_node, node_config(self, dir)));
  auto h1 = keep(stand_in_host(sys, "h1", me));
  CHECK(join(self, node, host_join{0, 49, "h1", h1}).accepted);
  CHECK(next_log(self) == "client host h1 joined: clients 0-49");
  auto link = dir->find(0);
  REQUIRE(link);
  auto again = join(self, node, host_join{0, 49, "h1", h1});
  CHECK(again.accepted);
  CHECK(again.message == "welcome");
  CHECK(dir->size() == 1);
  CHECK(dir->find(0) == link);
  // Counted once: a wait for two hosts is still waiting.
  self->request(node, std::chrono::milliseconds(50), hosts_atom::value, uint32_t{2})
      .receive([](uint32_t n) { FAIL("answered with " << n << " joins"); },
               [](caf::error& err) { CHECK(err == caf::sec::request_timeout); });
}

TEST_CASE("an edge node answers hosts once that many client hosts have joined", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto node = keep(sys.spawn(edge_node, node_config(self, std::make_shared<client_directory>())));
  // Sent as plain messages: each answer (the joins so far) comes back as a message.
  self->send(node, hosts_atom::value, 1u);
  self->send(node, hosts_atom::value, 3u);
  self->send(node, hosts_atom::value, 2u);
  for (uint32_t i = 0; i < 3; ++i) {
    auto h = keep(stand_in_host(sys, "h" + std::to_string(i), me));
    CHECK(join(self, node, host_join{10 * i, 10 * i + 9, "h", h}).accepted);
  }
  // Each waiter was answered by the join that reached its count: with that count.
  std::vector<uint32_t> answers;
  while (answers.size() < 3)
    self->receive([&](uint32_t n) { answers.push_back(n); },
                  caf::after(wait) >> [] { FAIL("a hosts request was never answered"); });
  CHECK(answers == std::vector<uint32_t>{1, 2, 3});
  // Already reached: answered at once with the joins so far.
  uint32_t now = 0;
  self->request(node, wait, hosts_atom::value, 2u)
      .receive([&](uint32_t n) { now = n; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(now == 3);
}

TEST_CASE(
    "an edge node passes node_shutdown on to its client hosts and then ends with the "
    "reason",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto node = keep(sys.spawn(edge_node, node_config(self, std::make_shared<client_directory>())));
  auto h1 = keep(stand_in_host(sys, "h1", me));
  auto h2 = keep(stand_in_host(sys, "h2", me, host_behaviour{false, true}));
  CHECK(join(self, node, host_join{0, 49, "h1", h1}).accepted);
  CHECK(join(self, node, host_join{50, 99, "h2", h2}).accepted);
  self->send(node, await_end_atom::value);  // answered as a plain message at the end
  auto ack = shutdown(self, node, "run complete");
  CHECK(ack.accepted);
  CHECK(ack.message == "bye");
  // The node answered after both hosts had (h2 with an error), and they told us first.
  std::vector<std::pair<std::string, std::string>> told;
  while (told.size() < 2)
    self->receive(
        [&](told_atom, std::string& name, std::string& reason) { told.emplace_back(name, reason); },
        caf::after(wait) >> [] { FAIL("a host was not told"); });
  std::sort(told.begin(), told.end());
  CHECK(told == std::vector<std::pair<std::string, std::string>>{{"h1", "run complete"},
                                                                 {"h2", "run complete"}});
  std::string end;
  self->receive([&](std::string& s) { end = s; },
                caf::after(wait) >> [] { FAIL("await_end was never answered"); });
  CHECK(end == "shutdown: run complete");
}

TEST_CASE("an edge node without client hosts acknowledges shutdown at once and keeps the reason",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto node = keep(sys.spawn(edge_node, node_config(self, std::make_shared<client_directory>())));
  auto ack = shutdown(self, node, "early");
  CHECK(ack.accepted);
  CHECK(ack.message == "bye");
  std::string end;
  self->request(node, wait, await_end_atom::value)
      .receive([&](std::string& s) { end = s; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(end == "shutdown: early");
}

TEST_CASE("an edge node told to stop ends its wait with the reason", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto node = keep(sys.spawn(edge_node, node_config(self, std::make_shared<client_directory>())));
  self->send(node, await_end_atom::value);  // answered as a plain message
  self->send(node, stop_atom::value, std::string{"SIGTERM"});
  std::string end;
  self->receive([&](std::string& s) { end = s; },
                caf::after(wait) >> [] { FAIL("no end after the stop"); });
  CHECK(end == "stopped: SIGTERM");
  // The first end counts: a shutdown after it changes nothing.
  shutdown(self, node, "late");
  std::string again;
  self->request(node, wait, await_end_atom::value)
      .receive([&](std::string& s) { again = s; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(again == "stopped: SIGTERM");
}

TEST_CASE("an edge node forgets a client host that dies and fails its tasks in flight at once",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto dir = std::make_shared<client_directory>();
  auto node = keep(sys.spawn(edge_node, node_config(self, dir)));
  auto host = keep(stand_in_host(sys, "h1", me, host_behaviour{true, false}));
  CHECK(join(self, node, host_join{0, 49, "h1", host}).accepted);
  CHECK(next_log(self) == "client host h1 joined: clients 0-49");
  auto link = dir->find(10);
  REQUIRE(link);
  self->monitor(link);
  request_for<train_res>(sys, me, link, task(10));  // 60 s task timeout
  self->receive([](held_atom, uint32_t client) { CHECK(client == 10); },
                caf::after(wait) >> [] { FAIL("the task never reached the host"); });
  self->send_exit(host, caf::exit_reason::kill);
  const auto why = reason_text(caf::exit_reason::kill);
  std::string failed;
  self->receive([](train_res&) { FAIL("the dead host's task succeeded"); },
                [&](caf::error& err) { failed = describe(err); },
                caf::after(wait) >> [] { FAIL("the task in flight did not fail"); });
  CHECK(failed == "host_lost: client host 0-49 lost (" + why + ")");
  CHECK(next_log(self) == "client host h1 (0-49) lost (" + why +
                              "): its tasks in flight fail; its ids train here until it rejoins");
  // The link leaves the directory, then exits.
  self->receive([&](caf::down_msg& d) { CHECK(d.source == link.address()); },
                caf::after(wait) >> [] { FAIL("the link did not exit"); });
  CHECK(dir->size() == 0);
  CHECK_FALSE(dir->find(10));
  // With its only host gone, the node still acknowledges shutdown and ends.
  CHECK(shutdown(self, node, "run complete").accepted);
  std::string end;
  self->request(node, wait, await_end_atom::value)
      .receive([&](std::string& s) { end = s; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(end == "shutdown: run complete");
}

TEST_CASE("an edge node that loses the server it watches ends that watch with lost", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto node = keep(sys.spawn(edge_node, node_config(self, std::make_shared<client_directory>())));
  auto server = keep(stand_in_host(sys, "server", me));
  self->send(node, watch_atom::value, server);
  self->send(node, await_end_atom::value);  // answered as a plain message at the end
  self->send(node, await_end_atom::value);  // a second caller waits too
  self->send_exit(server, caf::exit_reason::user_shutdown);
  const std::string lost =
      "lost: the server (" + reason_text(caf::exit_reason::user_shutdown) + ")";
  for (int caller = 0; caller < 2; ++caller) {
    std::string end;
    self->receive([&](std::string& s) { end = s; },
                  caf::after(wait) >> [] { FAIL("await_end was never answered"); });
    CHECK(end == lost);
  }
  // The loss ended that watch only: the node watches a new server (the old one restarted),
  // whose loss ends the next watch; a loss nobody waited for is kept for the next await_end.
  auto second = keep(stand_in_host(sys, "server again", me));
  self->send(node, watch_atom::value, second);
  self->send_exit(second, caf::exit_reason::user_shutdown);
  std::string end;
  self->request(node, wait, await_end_atom::value)
      .receive([&](std::string& s) { end = s; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(end == lost);
  // A shutdown is final: every later await_end gets it.
  auto third = keep(stand_in_host(sys, "third server", me));
  self->send(node, watch_atom::value, third);
  CHECK(shutdown(self, node, "run complete").accepted);
  for (int caller = 0; caller < 2; ++caller) {
    end.clear();
    self->request(node, wait, await_end_atom::value)
        .receive([&](std::string& s) { end = s; }, [](caf::error& err) { FAIL(describe(err)); });
    CHECK(end == "shutdown: run complete");
  }
}
