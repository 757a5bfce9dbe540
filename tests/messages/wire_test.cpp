// Every registered message type crosses a real middleman connection (two actor systems in
// this process, over 127.0.0.1) and comes back unchanged: an echo actor on one side reflects
// whatever the other side sends.

#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/errors.hpp"
#include "messages/eval.hpp"
#include "messages/host_batch.hpp"
#include "messages/host_task.hpp"
#include "messages/node.hpp"
#include "messages/run.hpp"
#include "messages/train.hpp"
#include "messages/tree.hpp"
#include "runtime/host/system_config.hpp"

using namespace fedactor;

namespace {

using fail_atom = caf::atom_constant<caf::atom("fail")>;

// Two actor systems connected over loopback: `here` talks to an echo actor published by
// `there` through a proxy, so every message is serialized, sent, deserialized, reflected,
// serialized again and deserialized again.
struct wire {
  system_config cfg_there;
  system_config cfg_here;
  caf::actor_system there{cfg_there};
  caf::actor_system here{cfg_here};
  caf::actor echo;
  caf::actor remote;

  wire() {
    echo = there.spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(caf::reflect);
      return {
          [](fail_atom) -> caf::result<void> {
            return make_error(errc::invalid_update, "client 4: 3 parameters, expected 2762");
          },
      };
    });
    auto port = there.middleman().publish(echo, 0, "127.0.0.1");
    REQUIRE(port);
    auto r = here.middleman().remote_actor("127.0.0.1", *port);
    REQUIRE(r);
    remote = *r;
  }

  ~wire() { caf::anon_send_exit(echo, caf::exit_reason::user_shutdown); }

  template <class T>
  T round_trip(const T& x) {
    caf::scoped_actor self{here};
    T out;
    bool got = false;
    self->request(remote, std::chrono::seconds(10), x)
        .receive(
            [&](T& y) {
              out = std::move(y);
              got = true;
            },
            [&](caf::error& err) { FAIL("round trip failed: " << describe(err)); });
    REQUIRE(got);
    return out;
  }
};

param_blob blob(size_t n, float start) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + 0.25f * static_cast<float>(i);
  return param_blob{std::move(v)};
}

bool same_bytes(const param_blob& a, const param_blob& b) {
  return a.size() == b.size() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// The names the cases below send across the connection.
const std::set<std::string> covered = {
    "fedactor::param_blob",  "fedactor::train_settings", "fedactor::train_ins",
    "fedactor::train_res",   "fedactor::edge_ins",       "fedactor::edge_res",
    "fedactor::run_report",  "fedactor::eval_ins",       "fedactor::eval_res",
    "fedactor::async_ins",   "fedactor::async_res",      "fedactor::group_close",
    "fedactor::node_hello",  "fedactor::node_welcome",   "fedactor::edge_join",
    "fedactor::host_join",   "fedactor::node_ack",       "fedactor::node_shutdown",
    "fedactor::edge_rejoin", "std::vector<uint64_t>",    "std::vector<uint32_t>",
    "fedactor::child_join",  "fedactor::edge_cover",     "fedactor::host_task",
    "fedactor::host_batch",
};

}  // namespace

TEST_CASE("every registered fedactor message type has a wire test", "[messages][wire]") {
  system_config cfg;
  std::set<std::string> registered;
  for (auto& [name, factory] : cfg.value_factories_by_name)
    if (name.rfind("fedactor::", 0) == 0 || name.rfind("std::vector<uint", 0) == 0)
      registered.insert(name);
  CHECK(registered == covered);
}

TEST_CASE("training messages cross a real connection unchanged, parameters bit for bit",
          "[messages][wire]") {
  wire w;
  auto b = w.round_trip(blob(1 << 20, -3.0f));  // 4 MiB of raw floats
  CHECK(same_bytes(b, blob(1 << 20, -3.0f)));
  CHECK(w.round_trip(param_blob{}).empty());

  auto s = w.round_trip(train_settings{3, 64, 0.125, 0.5, "fedavg", {}, {}});
  CHECK(s.epochs == 3);
  CHECK(s.batch_size == 64);
  CHECK(s.lr == 0.125);
  CHECK(s.momentum == 0.5);

  train_ins ins;
  ins.round = 7;
  ins.client = 123456;
  ins.model_version = 99;
  ins.task_seed = 0xdeadbeefcafef00dull;
  ins.model = blob(2762, 1.0f);
  ins.settings = train_settings{2, 16, 0.05, 0.8, "fedavg", {}, {}};
  ins.timeout_s = 4.5;
  auto a = w.round_trip(ins);
  CHECK(a.round == 7);
  CHECK(a.client == 123456);
  CHECK(a.model_version == 99);
  CHECK(a.task_seed == 0xdeadbeefcafef00dull);
  CHECK(same_bytes(a.model, ins.model));
  CHECK(a.settings.batch_size == 16);
  CHECK(a.timeout_s == 4.5);

  train_res res;
  res.round = 7;
  res.client = 123456;
  res.model_version = 99;
  res.num_samples = 150;
  res.loss = 2.25;
  res.params = blob(2762, -1.0f);
  auto r = w.round_trip(res);
  CHECK(r.num_samples == 150);
  CHECK(r.loss == 2.25);
  CHECK(same_bytes(r.params, res.params));

  // A task by reference: no model, the version and digest it names.
  host_task ref;
  ref.ins = ins;
  ref.ins.model = param_blob{};
  ref.model_digest = std::string(64, 'a');
  ref.model_by_reference = true;
  auto h = w.round_trip(ref);
  CHECK(h.ins.client == 123456);
  CHECK(h.ins.model_version == 99);
  CHECK(h.ins.model.empty());
  CHECK(h.model_digest == std::string(64, 'a'));
  CHECK(h.model_by_reference);
  host_task full{ins, "d", false};
  auto hf = w.round_trip(full);
  CHECK(same_bytes(hf.ins.model, ins.model));
  CHECK(hf.model_digest == "d");
  CHECK_FALSE(hf.model_by_reference);

  // A host's batch (host aggregation): its clients, the model in full or by reference.
  edge_ins round;
  round.round = 4;
  round.model_version = 3;
  round.seed = 7;
  round.model = blob(2762, 0.25f);
  round.clients = {5, 9, 4000000000u};
  round.client_timeout_s = 30;
  host_batch batch{round, std::string(64, 'b'), false};
  auto hb = w.round_trip(batch);
  CHECK(hb.ins.round == 4);
  CHECK(hb.ins.model_version == 3);
  CHECK(hb.ins.seed == 7);
  CHECK(hb.ins.clients == std::vector<uint32_t>{5, 9, 4000000000u});
  CHECK(same_bytes(hb.ins.model, round.model));
  CHECK(hb.ins.client_timeout_s == 30);
  CHECK(hb.model_digest == std::string(64, 'b'));
  CHECK_FALSE(hb.model_by_reference);
  batch.ins.model = param_blob{};
  batch.model_by_reference = true;
  auto hr = w.round_trip(batch);
  CHECK(hr.ins.model.empty());
  CHECK(hr.ins.clients.size() == 3);
  CHECK(hr.model_by_reference);

  eval_ins ei{12, blob(10, 0.5f)};
  auto e1 = w.round_trip(ei);
  CHECK(e1.round == 12);
  CHECK(same_bytes(e1.model, ei.model));
  eval_res er{12, 0.75, 0.875, 10000, 0.5, 20};
  auto e2 = w.round_trip(er);
  CHECK(e2.loss == 0.75);
  CHECK(e2.accuracy == 0.875);
  CHECK(e2.samples == 10000);
  CHECK(e2.client_accuracy == 0.5);
  CHECK(e2.clients == 20);
}

TEST_CASE("edge, run and async messages cross a real connection unchanged", "[messages][wire]") {
  wire w;
  edge_ins ins;
  ins.round = 3;
  ins.model_version = 2;
  ins.seed = 42;
  ins.model = blob(100, 0.0f);
  ins.clients = {1, 5, 4000000000u};
  ins.settings = train_settings{1, 32, 0.01, 0.9, "fedavg", {}, {}};
  ins.client_timeout_s = 60;
  auto a = w.round_trip(ins);
  CHECK(a.round == 3);
  CHECK(a.seed == 42);
  CHECK(a.clients == ins.clients);
  CHECK(same_bytes(a.model, ins.model));
  CHECK(a.client_timeout_s == 60);

  edge_res res;
  res.round = 3;
  res.edge = 1;
  res.aggregate = {'\0', 'x', '\xff', '\0'};
  res.failed_by = {1, 0, 0, 0, 0};
  res.failures = {"client 5: client_timeout"};
  res.live_clients = 3;
  res.peak_live_clients = 4;
  res.evictions = 5;
  res.refused_results = {0, 2, 0, 0, 1};
  auto b = w.round_trip(res);
  CHECK(b.aggregate == res.aggregate);
  CHECK(b.failures == res.failures);
  CHECK(b.failed_by == res.failed_by);
  CHECK(b.evictions == 5);
  CHECK(b.refused_results == std::vector<uint32_t>{0, 2, 0, 0, 1});

  run_report rep;
  rep.rounds = 10;
  rep.model_version = 10;
  rep.clients_trained = 1000;
  rep.failures = 3;
  rep.final_loss = 1.5;
  rep.model = blob(50, 2.0f);
  rep.sim_time_s = 123.5;
  rep.total_updates = 7;
  rep.stale_updates = 8;
  rep.rejected_updates = 9;
  auto c = w.round_trip(rep);
  CHECK(c.rounds == 10);
  CHECK(c.clients_trained == 1000);
  CHECK(c.final_loss == 1.5);
  CHECK(same_bytes(c.model, rep.model));
  CHECK(c.sim_time_s == 123.5);
  CHECK(c.rejected_updates == 9);

  async_ins ai;
  ai.seq = 77;
  ai.client = 9;
  ai.base_version = 4;
  ai.task_seed = 5;
  ai.finish = 12.25;
  ai.model = blob(30, 1.0f);
  ai.timeout_s = 3;
  ai.group = 6;
  ai.group_params = true;
  auto d = w.round_trip(ai);
  CHECK(d.seq == 77);
  CHECK(d.finish == 12.25);
  CHECK(d.group == 6);
  CHECK(d.group_params);
  CHECK(same_bytes(d.model, ai.model));

  // Each outcome of the variant, with its own fields.
  async_res ar;
  ar.seq = 77;
  ar.client = 9;
  ar.outcome = async_group{{'a', 'b'}, {70, 77}, 0};
  auto e = w.round_trip(ar);
  CHECK(e.seq == 77);
  CHECK(e.client == 9);
  auto* eg = std::get_if<async_group>(&e.outcome);
  REQUIRE(eg);
  CHECK(eg->members == std::vector<uint64_t>{70, 77});
  CHECK(eg->aggregate == std::vector<char>{'a', 'b'});
  ar.outcome = async_update{120, 0.5, blob(30, -1.0f), {}};
  auto eu = w.round_trip(ar);
  auto* u = std::get_if<async_update>(&eu.outcome);
  REQUIRE(u);
  CHECK(u->num_samples == 120);
  CHECK(u->loss == 0.5);
  CHECK(same_bytes(u->params, std::get<async_update>(ar.outcome).params));
  ar.outcome = async_held{};
  CHECK(std::holds_alternative<async_held>(w.round_trip(ar).outcome));

  auto g = w.round_trip(group_close{6, 5});
  CHECK(g.group == 6);
  CHECK(g.size == 5);

  CHECK(w.round_trip(std::vector<uint64_t>{1, 1ull << 40}) == std::vector<uint64_t>{1, 1ull << 40});
  CHECK(w.round_trip(std::vector<uint32_t>{3, 2, 1}) == std::vector<uint32_t>{3, 2, 1});
}

TEST_CASE("node registration messages cross a real connection, actor handles included",
          "[messages][wire]") {
  wire w;
  auto h = w.round_trip(node_hello{"edge", 3, node_protocol_version});
  CHECK(h.role == "edge");
  CHECK(h.id == 3);
  CHECK(h.protocol == node_protocol_version);

  auto wl = w.round_trip(node_welcome{"name: x\nseed: 4\n", 10});
  CHECK(wl.scenario_yaml == "name: x\nseed: 4\n");
  CHECK(wl.edges == 10);

  // A handle to an actor of `here` travels to `there` (a proxy) and back (the actor again).
  auto local = w.here.spawn([]() -> caf::behavior { return {[](int x) { return x + 1; }}; });
  edge_join j{2, "eu-west", 50, "10.0.0.2:4300", local, local};
  auto j2 = w.round_trip(j);
  CHECK(j2.id == 2);
  CHECK(j2.region == "eu-west");
  CHECK(j2.capacity == 50);
  CHECK(j2.address == "10.0.0.2:4300");
  CHECK(j2.edge == local);
  CHECK(j2.control == local);

  auto cj = w.round_trip(child_join{11, "site b", {0, 249, 400, 401}, local, local});
  CHECK(cj.id == 11);
  CHECK(cj.name == "site b");
  CHECK(cj.covers == std::vector<uint32_t>{0, 249, 400, 401});
  CHECK(cj.edge == local);
  CHECK(cj.control == local);

  auto cover = w.round_trip(edge_cover{11, {7, 9}});
  CHECK(cover.id == 11);
  CHECK(cover.covers == std::vector<uint32_t>{7, 9});

  auto hj = w.round_trip(host_join{100, 199, "100-199", local});
  CHECK(hj.first == 100);
  CHECK(hj.last == 199);
  CHECK(hj.name == "100-199");
  CHECK(hj.host == local);

  auto ack = w.round_trip(node_ack{false, "edge id 9 out of range"});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "edge id 9 out of range");
  CHECK(w.round_trip(node_shutdown{"run complete"}).reason == "run complete");
  auto rj = w.round_trip(edge_rejoin{4, local});
  CHECK(rj.id == 4);
  CHECK(rj.edge == local);
  caf::anon_send_exit(local, caf::exit_reason::user_shutdown);
}

TEST_CASE("fedactor errors cross a real connection with their code and context",
          "[messages][wire]") {
  wire w;
  caf::scoped_actor self{w.here};
  std::string seen;
  self->request(w.remote, std::chrono::seconds(10), fail_atom::value)
      .receive([] { FAIL("expected an error"); }, [&](caf::error& err) { seen = describe(err); });
  CHECK(seen == "invalid_update: client 4: 3 parameters, expected 2762");
}
