// The server when an edge is lost (its actor dies; across processes the same down message
// comes from a dead or silent connection): rerouting, dropping, and a returning edge.

#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/edge.hpp"
#include "actors/server.hpp"
#include "actors/trainer.hpp"
#include "messages/errors.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/timing/device_profile.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;

namespace {

scenario sync_teacher() {
  scenario s;
  s.name = "failover";
  s.seed = 3;
  s.population.clients = 300;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 3;
  s.selection.clients_per_round = 30;
  s.pool.max_live_clients = 30;
  s.pool.trainers = 2;
  s.protocol.rounds = 8;
  return s;
}

scenario async_teacher() {
  scenario s = sync_teacher();
  s.population.clients = 400;
  s.topology.edges = 4;
  s.pool.max_live_clients = 40;
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 10;
  s.async.aggregations = 6;
  s.devices.compute_power.kind = power_kind::lognormal;
  return s;
}

std::vector<float> reference_model(const scenario& s) {
  return fedactor::testing::run_federation(s).result.model;
}

// A server over local edges, as federation builds it, with a hook called after each round
// that may kill or replace edges.
struct harness {
  using hook_fn = std::function<void(harness&, const round_record&)>;

  system_config cfg;
  caf::actor_system sys{cfg};
  scenario sc;
  std::shared_ptr<const data_source> data;
  model_spec spec;
  caf::actor trainers;
  uint32_t capacity = 1;
  std::vector<edge_actor> edges;
  std::vector<caf::actor> spawned;
  server_actor srv;
  std::vector<round_record> records;

  explicit harness(scenario s) : sc(std::move(s)) {
    data = make_data_source(sc);
    spec = make_model_spec(sc);
    trainers = spawn_trainer_pool(sys, spec, sc.pool.trainers);
    spawned.push_back(trainers);
    capacity = std::max(1u, sc.pool.max_live_clients / sc.topology.edges);
    for (uint32_t e = 0; e < sc.topology.edges; ++e) edges.push_back(new_edge(e));
  }

  ~harness() {
    for (auto& a : spawned) caf::anon_send_exit(a, caf::exit_reason::kill);
  }

  edge_actor new_edge(uint32_t id) {
    auto e = spawn_edge(sys, edge_config{id, capacity, data, trainers});
    spawned.push_back(caf::actor_cast<caf::actor>(e));
    return e;
  }

  void kill_edge(uint32_t id) { caf::anon_send_exit(edges[id], caf::exit_reason::kill); }

  void rejoin_edge(uint32_t id) {
    edges[id] = new_edge(id);
    caf::anon_send(srv, edge_rejoin{id, caf::actor_cast<caf::actor>(edges[id])});
  }

  run_report run(hook_fn hook) {
    auto registry = std::make_shared<client_registry>(
        sc.population.clients, sc.seed, sc.population.regions,
        [this](client_id id) { return data->num_samples(id); },
        device_meta_fn(sc.devices, sc.seed, sc.population.regions));
    server_config scfg;
    scfg.sc = sc;
    scfg.initial_model = initial_params(spec, sc.seed);
    scfg.registry = registry;
    scfg.edges = edges;
    scfg.edge_capacity = capacity;
    scfg.on_round = [this, hook](const round_record& r, const param_blob&) {
      records.push_back(r);
      if (hook) hook(*this, r);
    };
    srv = spawn_server(sys, std::move(scfg));
    spawned.push_back(caf::actor_cast<caf::actor>(srv));
    caf::scoped_actor self{sys};
    run_report rep;
    self->request(srv, std::chrono::seconds(120), run_atom::value)
        .receive([&](run_report& r) { rep = std::move(r); },
                 [&](caf::error& err) { FAIL("the server failed: " << describe(err)); });
    return rep;
  }

  template <class F>
  uint64_t sum(F field) const {
    uint64_t n = 0;
    for (auto& r : records) n += field(r);
    return n;
  }
};

}  // namespace

TEST_CASE("a sync run that loses an edge reroutes its clients and ends with the same model",
          "[actors][failover]") {
  const auto sc = sync_teacher();
  const auto expected = reference_model(sc);
  harness h{sc};
  auto rep = h.run([](harness& hh, const round_record& r) {
    if (r.round == 2) hh.kill_edge(1);
    if (r.round == 5) hh.rejoin_edge(1);
  });
  REQUIRE(h.records.size() == 8);
  CHECK(rep.rounds == 8);
  CHECK(rep.failures == 0);
  CHECK(rep.clients_trained == 8 * 30);
  CHECK(h.sum([](auto& r) { return r.edges_lost; }) == 1);
  CHECK(h.sum([](auto& r) { return r.edges_rejoined; }) == 1);
  CHECK(h.sum([](auto& r) { return r.rerouted; }) > 0);
  CHECK(h.records.back().rerouted == 0);  // edge 1 serves its own clients again
  // Training is a function of (seed, round, client): where a client trains does not matter,
  // and the sums are exact, so nothing accepted was lost or counted twice.
  CHECK(rep.model.values() == expected);
}

TEST_CASE("a sync run with on_edge_loss drop counts a lost edge's clients as failed",
          "[actors][failover]") {
  auto sc = sync_teacher();
  sc.faults.on_edge_loss = edge_loss_policy::drop;
  harness h{sc};
  auto rep = h.run([](harness& hh, const round_record& r) {
    if (r.round == 2) hh.kill_edge(1);
  });
  REQUIRE(h.records.size() == 8);
  CHECK(h.sum([](auto& r) { return r.edges_lost; }) == 1);
  CHECK(h.sum([](auto& r) { return r.rerouted; }) == 0);
  CHECK(rep.failures > 0);
  CHECK(rep.clients_trained + rep.failures == 8 * 30);
  CHECK(failure_counts::from_wire(rep.failures_by)->of(failure_code::edge_lost) == rep.failures);
  const auto& last = h.records.back();
  CHECK(last.failures > 0);
  CHECK(last.clients + last.failures == 30);
  REQUIRE_FALSE(last.failure_reasons.empty());
  CHECK(last.failure_reasons[0].find("edge 1 lost") != std::string::npos);
}

TEST_CASE("an async run that loses an edge resends its tasks through the survivors",
          "[actors][failover]") {
  harness h{async_teacher()};
  auto rep = h.run([](harness& hh, const round_record& r) {
    if (r.round == 2) hh.kill_edge(2);
  });
  REQUIRE(h.records.size() == 6);
  CHECK(rep.rounds == 6);
  CHECK(h.sum([](auto& r) { return r.edges_lost; }) == 1);
  CHECK(h.sum([](auto& r) { return r.rerouted; }) > 0);
  CHECK(rep.failures == 0);
  for (auto& r : h.records) CHECK(r.clients == 10);
}

namespace {

// An edge that answers its pre-aggregated tasks "held" at once but never sends a group's
// aggregate, and dies right after its `held`-th held answer: the crash of an edge between
// writing its held answers and its aggregate. Forwarded tasks it never answers.
edge_actor::behavior_type crashing_edge(edge_actor::pointer self, int held) {
  auto answered = std::make_shared<int>(0);
  return {
      [](edge_ins&) -> caf::result<edge_res> {
        return make_error(errc::bad_request, "async only");
      },
      [=](async_ins& ins) -> caf::result<async_res> {
        if (ins.group == 0 || *answered >= held) return self->make_response_promise<async_res>();
        async_res r;
        r.seq = ins.seq;
        r.client = ins.client;
        r.outcome = async_held{};
        if (++*answered == held) self->send_exit(self, caf::exit_reason::kill);
        return r;
      },
      [](group_close&) {},
  };
}

}  // namespace

TEST_CASE("held updates of an edge lost before its group's aggregate count as failures",
          "[actors][failover]") {
  for (auto clock : {clock_kind::simulated, clock_kind::real}) {
    INFO("clock " << to_string(clock));
    auto s = async_teacher();
    s.clock = clock;
    s.async.edge = edge_mode::preaggregate;
    s.async.preaggregate = 5;
    harness h{s};
    h.edges[2] = h.sys.spawn(crashing_edge, 3);
    h.spawned.push_back(caf::actor_cast<caf::actor>(h.edges[2]));
    auto rep = h.run(nullptr);
    CHECK(rep.rounds == 6);
    CHECK(h.sum([](auto& r) { return r.edges_lost; }) == 1);
    // Exactly the three held members are lost and counted; the edge's other tasks were
    // resent through the survivors.
    CHECK(rep.failures == 3);
    CHECK(failure_counts::from_wire(rep.failures_by)->of(failure_code::edge_lost) == 3);
    std::vector<std::string> reasons;
    for (auto& r : h.records)
      for (auto& why : r.failure_reasons)
        if (why.find("edge 2 lost before its group's aggregate") != std::string::npos)
          reasons.push_back(why);
    CHECK(reasons.size() == 3);
    CHECK(h.sum([](auto& r) { return r.rerouted; }) > 0);
  }
}
