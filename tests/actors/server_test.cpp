#include "actors/server.hpp"

#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_response_promise.hpp>

#include <catch2/catch.hpp>

// After Catch2: CAF's test DSL (only its test_coordinator_fixture is used here).
#include <caf/test/dsl.hpp>

#include "actors/edge.hpp"
#include "messages/errors.hpp"
#include "messages/registration.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/protocol/answer_refusals.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/timing/device_profile.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;

using fedactor::testing::run_federation;

namespace {

scenario async_teacher() {
  scenario s;
  s.name = "async-test";
  s.seed = 8;
  s.population.clients = 400;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 4;
  s.pool.max_live_clients = 40;
  s.pool.trainers = 2;
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 10;
  s.async.aggregations = 6;
  s.devices.compute_power.kind = power_kind::lognormal;
  return s;
}

}  // namespace

TEST_CASE("an async run steps exactly aggregations times with buffer_size updates each",
          "[actors]") {
  auto out = run_federation(async_teacher());
  REQUIRE(out.records.size() == 6);
  for (size_t i = 0; i < out.records.size(); ++i) {
    const auto& r = out.records[i];
    CHECK(r.async);
    CHECK(r.round == i + 1);
    CHECK(r.model_version == i + 1);
    CHECK(r.clients == 10);
    CHECK(r.staleness_histogram.size() == 6);  // threshold 5 -> staleness 0..5
    CHECK(std::accumulate(r.staleness_histogram.begin(), r.staleness_histogram.end(), 0u) == 10);
    CHECK(r.mean_decay > 0);
    CHECK(r.mean_decay <= 1);
    CHECK(r.sim_round_s > 0);
    if (i > 0) CHECK(r.sim_time_s > out.records[i - 1].sim_time_s);
  }
  const auto& sum = out.result.summary;
  CHECK(sum.protocol == "async");
  CHECK(sum.aggregations == 6);
  CHECK(sum.total_updates == 60);
  CHECK(sum.sim_time_s == out.records.back().sim_time_s);
  // Concurrency 20 over a buffer of 10: updates from the previous version arrive.
  CHECK(out.records.back().staleness_histogram[1] > 0);
}

TEST_CASE("an async run lowers the loss on the learnable task", "[actors]") {
  auto s = async_teacher();
  s.async.aggregations = 12;
  s.training.epochs = 2;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 12);
  CHECK(out.records.back().mean_loss < out.records.front().mean_loss - 0.1);
}

TEST_CASE("an async run gives identical model bytes with 1 and 2 scheduler threads", "[actors]") {
  auto s = async_teacher();
  auto a = run_federation(s, 1);
  auto b = run_federation(s, 2);
  CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
}

TEST_CASE("pre-aggregating edges give identical model bytes with 1 and 2 scheduler threads",
          "[actors]") {
  auto s = async_teacher();
  s.async.edge = edge_mode::preaggregate;
  s.async.preaggregate = 4;
  auto a = run_federation(s, 1);
  auto b = run_federation(s, 2);
  REQUIRE(a.records.size() == 6);
  CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
  CHECK(a.result.summary.total_updates >= 60);
  for (auto& r : a.records) CHECK(r.clients >= 10);  // a group may overshoot the buffer
}

TEST_CASE("staleness threshold 0 with concurrency above the buffer discards and reports it",
          "[actors]") {
  auto s = async_teacher();
  s.async.staleness_threshold = 0;
  s.async.concurrency = 30;
  s.async.buffer_size = 5;
  s.async.aggregations = 4;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 4);
  CHECK(out.result.summary.stale_updates > 0);
  CHECK(out.records.back().stale_discarded == out.result.summary.stale_updates);
  for (auto& r : out.records) {
    REQUIRE(r.staleness_histogram.size() == 1);
    CHECK(r.staleness_histogram[0] == 5);
    CHECK(r.mean_decay == 1.0);
  }
}

TEST_CASE("the tutorial's current-model delta rule runs through the actors", "[actors]") {
  auto s = async_teacher();
  s.async.delta = delta_rule::current;
  auto base_rule = run_federation(async_teacher());
  auto current_rule = run_federation(s);
  REQUIRE(current_rule.records.size() == 6);
  CHECK(current_rule.result.summary.model_sha256 != base_rule.result.summary.model_sha256);
}

TEST_CASE("sync over-selection keeps the first k to finish and drops the rest", "[actors]") {
  scenario s = async_teacher();
  s.protocol.mode = protocol_mode::sync;
  s.protocol.rounds = 2;
  s.selection.clients_per_round = 20;
  s.selection.over_select = 0.5;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 2);
  for (auto& r : out.records) {
    CHECK(r.selected == 30);
    CHECK(r.clients == 20);
    CHECK(r.dropped == 10);
    CHECK(r.sim_round_s > 0);
  }
  // The round lasts as long as its 20th-fastest client.
  CHECK(out.records[1].sim_time_s == out.records[0].sim_round_s + out.records[1].sim_round_s);
}

TEST_CASE("a sync round deadline cuts off slow clients and fixes the round length", "[actors]") {
  scenario s = async_teacher();
  s.protocol.mode = protocol_mode::sync;
  s.protocol.rounds = 1;
  s.selection.clients_per_round = 40;
  // Durations by hand: find a deadline that some selected clients miss.
  auto durations = std::vector<double>{};
  for (uint32_t id = 0; id < 400; ++id) {
    auto p = make_device_profile(s.devices, s.seed, id);
    durations.push_back(task_duration(s.devices, p, 120, 1, 2762 * 4));
  }
  std::sort(durations.begin(), durations.end());
  s.protocol.round_deadline = durations[200];  // about half the fleet is too slow
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 1);
  const auto& r = out.records[0];
  CHECK(r.dropped > 0);
  CHECK(r.clients + r.dropped == 40);
  CHECK(r.sim_round_s == s.protocol.round_deadline);
}

// -- the shell on CAF's deterministic scheduler, with stand-in edges -------------------------
//
// The server runs on the `testing` scheduler: nothing happens until the test lets the actors
// consume their messages (consume_messages(), which never fires a timeout), and a request
// times out only when the test moves the clock. The edges are stand-ins: they record every
// edge_ins / async_ins and hold its response promise; the test answers by hand, with
// aggregates that follow a rule simple enough to compute by hand:
//
//   client c: samples 8 (even c) or 24 (odd c), Δ = {c + 1, -0.5}, loss c
//
// Every sum of samples the tests meet is a power of two, so every mean is exact in float.

namespace {

struct shell_config : caf::actor_system_config {
  shell_config() { register_messages(*this); }
};

uint32_t samples_of(uint32_t c) {
  return c % 2 == 0 ? 8 : 24;
}

std::vector<float> delta_of(uint32_t c) {
  return {static_cast<float>(c + 1), -0.5f};
}

double loss_of(uint32_t c) {
  return c;
}

const std::vector<float> initial = {1.0f, -1.0f};

// What a stand-in edge was sent, with the promises the test keeps.
struct stand_in_log {
  std::vector<edge_ins> sync;
  std::vector<caf::typed_response_promise<edge_res>> sync_replies;
  std::vector<async_ins> async;
  std::vector<caf::typed_response_promise<async_res>> async_replies;
  std::vector<group_close> closes;
};

// The test tells a stand-in to answer its i-th edge_ins / async_ins. (A promise must be
// delivered from its actor's own handler: on the testing scheduler, the execution unit it
// remembers is gone once the handler returns.)
using answer_atom = caf::atom_constant<caf::atom("answer")>;
// The same for an async_ins answered with an error.
using fail_task_atom = caf::atom_constant<caf::atom("failtask")>;

using stand_in_actor = edge_actor::extend<caf::reacts_to<answer_atom, uint64_t, edge_res>,
                                          caf::reacts_to<answer_atom, uint64_t, caf::error>,
                                          caf::reacts_to<answer_atom, uint64_t, async_res>,
                                          caf::reacts_to<fail_task_atom, uint64_t, caf::error>>;

stand_in_actor::behavior_type stand_in_edge(stand_in_actor::pointer self,
                                            std::shared_ptr<stand_in_log> log) {
  return {
      [=](edge_ins& ins) -> caf::result<edge_res> {
        log->sync.push_back(std::move(ins));
        log->sync_replies.push_back(self->make_response_promise<edge_res>());
        return log->sync_replies.back();
      },
      [=](async_ins& ins) -> caf::result<async_res> {
        log->async.push_back(std::move(ins));
        log->async_replies.push_back(self->make_response_promise<async_res>());
        return log->async_replies.back();
      },
      [=](group_close& c) { log->closes.push_back(c); },
      [=](answer_atom, uint64_t i, edge_res& res) {
        log->sync_replies.at(i).deliver(std::move(res));
      },
      [=](answer_atom, uint64_t i, caf::error& err) {
        log->sync_replies.at(i).deliver(std::move(err));
      },
      [=](answer_atom, uint64_t i, async_res& res) {
        log->async_replies.at(i).deliver(std::move(res));
      },
      [=](fail_task_atom, uint64_t i, caf::error& err) {
        log->async_replies.at(i).deliver(std::move(err));
      },
  };
}

// The answer of an edge whose clients all trained, by the rule above.
edge_res trained(const edge_ins& ins, uint32_t edge) {
  weighted_accumulator acc{initial.size()};
  for (auto c : ins.clients) {
    auto d = delta_of(c);
    REQUIRE(acc.add(d.data(), samples_of(c), loss_of(c)));
  }
  edge_res r;
  r.round = ins.round;
  r.edge = edge;
  r.aggregate = acc.serialize();
  r.failed_by = failure_counts{}.to_wire();
  return r;
}

// The task's model moved by its client's Δ, answered in the name of `client` with `samples`.
async_res update_for(const async_ins& ins, uint32_t client, uint32_t samples) {
  auto params = ins.model.values();
  const auto d = delta_of(ins.client);
  for (size_t i = 0; i < params.size(); ++i) params[i] += d[i];
  async_res r;
  r.seq = ins.seq;
  r.client = client;
  r.outcome = async_update{samples, loss_of(ins.client), param_blob{std::move(params)}, {}};
  return r;
}

async_res update_for(const async_ins& ins) {
  return update_for(ins, ins.client, samples_of(ins.client));
}

// The same for a task that may refer to its model instead of carrying it: `base` is the model.
async_res update_on(const async_ins& ins, const std::vector<float>& base) {
  async_ins carried = ins;
  carried.model = param_blob{base};
  return update_for(carried);
}

bool is_error(const std::optional<caf::error>& err, errc code) {
  return err && err->category() == errc_atom::value && err->code() == static_cast<uint8_t>(code);
}

failure_counts counts(const std::vector<uint32_t>& wire) {
  auto f = failure_counts::from_wire(wire);
  REQUIRE(f);
  return *f;
}

failure_counts only(failure_code code, uint32_t n) {
  failure_counts f;
  f.add(code, n);
  return f;
}

// 4 clients on 2 edges (range routing: edge 0 serves 0 and 1, edge 1 serves 2 and 3), all 4
// picked every round. A batch of 2 at edge capacity 2 is due after 10 + 30 = 40 s.
scenario shell_sync() {
  scenario s;
  s.name = "shell-sync";
  s.seed = 11;
  s.population.clients = 4;
  s.topology.edges = 2;
  s.topology.routing = routing_kind::range;
  s.selection.clients_per_round = 4;
  s.protocol.rounds = 2;
  s.training.timeout_s = 10;
  s.devices.compute_power.kind = power_kind::constant;
  s.devices.bandwidth_sigma = 0;
  return s;
}

// 2 clients on 2 edges, one task each in flight (concurrency 2), a step every 2 updates, no
// staleness discount. Training takes no simulated time (per_sample_s 0) and every link is
// alike, so every task lasts the same: results are released in seq order.
scenario shell_async() {
  scenario s = shell_sync();
  s.name = "shell-async";
  s.population.clients = 2;
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 2;
  s.async.buffer_size = 2;
  s.async.aggregations = 2;
  s.async.decay.kind = decay_kind::constant;
  s.devices.per_sample_s = 0;
  return s;
}

// What the run_atom request of a probe actor got.
struct run_outcome {
  std::optional<run_report> report;
  std::optional<caf::error> error;
};

struct shell_fixture : test_coordinator_fixture<shell_config> {
  scenario sc;
  std::vector<std::shared_ptr<stand_in_log>> logs;  // by edge id: its current stand-in's
  std::vector<stand_in_actor> stand_ins;            // by edge id: the current one
  std::vector<edge_actor> edges;
  std::vector<caf::actor> spawned;
  server_actor srv;
  std::vector<round_record> records;       // from on_round
  std::vector<std::vector<float>> models;  // the model of each record
  std::vector<std::string> events;         // from on_event

  ~shell_fixture() override {
    // Nothing may outlive the test, and the base class's run() fires every timeout left.
    for (auto& a : spawned) caf::anon_send_exit(a, caf::exit_reason::kill);
    consume_messages();
  }

  edge_actor stand_in(uint32_t id) {
    auto log = std::make_shared<stand_in_log>();
    auto e = sys.spawn(stand_in_edge, log);
    spawned.push_back(caf::actor_cast<caf::actor>(e));
    if (logs.size() <= id) {
      logs.resize(id + 1);
      stand_ins.resize(id + 1);
    }
    logs[id] = log;
    stand_ins[id] = e;
    return e;
  }

  // Forgets the stand-ins, records and models, for a second server (start again).
  void forget_run() {
    edges.clear();
    logs.clear();
    stand_ins.clear();
    records.clear();
    models.clear();
  }

  void start(scenario s, const std::function<void(server_config&)>& configure = {}) {
    sc = std::move(s);
    for (uint32_t e = 0; e < sc.topology.edges; ++e) edges.push_back(stand_in(e));
    server_config cfg;
    cfg.sc = sc;
    cfg.initial_model = initial;
    cfg.registry = std::make_shared<client_registry>(sc.population.clients, sc.seed, 1u,
                                                     [](client_id c) { return samples_of(c); });
    cfg.edges = edges;
    cfg.edge_capacity = 2;
    cfg.on_round = [this](const round_record& r, const param_blob& model) {
      records.push_back(r);
      models.push_back(model.values());
    };
    cfg.on_event = [this](const std::string& what) { events.push_back(what); };
    if (configure) configure(cfg);
    srv = spawn_server(sys, std::move(cfg));
    spawned.push_back(caf::actor_cast<caf::actor>(srv));
    consume_messages();
  }

  // Sends run_atom from a probe actor and lets everyone act on it.
  std::shared_ptr<run_outcome> ask_run() {
    auto out = std::make_shared<run_outcome>();
    auto dest = srv;
    spawned.push_back(sys.spawn([dest, out](caf::event_based_actor* a) {
      // No deadline: only the test moves the clock, and this request lasts the whole run.
      a->request(dest, caf::infinite, run_atom::value)
          .then([out](run_report& r) { out->report = std::move(r); },
                [out](caf::error& err) { out->error = std::move(err); });
    }));
    consume_messages();
    return out;
  }

  // Sends run_atom from a probe actor and lets only the probe and the server act: the
  // server's first requests wait, unread, in the edges' mailboxes.
  std::shared_ptr<run_outcome> begin_run() {
    auto out = std::make_shared<run_outcome>();
    auto dest = srv;
    auto probe = sys.spawn([dest, out](caf::event_based_actor* a) {
      a->request(dest, caf::infinite, run_atom::value)
          .then([out](run_report& r) { out->report = std::move(r); },
                [out](caf::error& err) { out->error = std::move(err); });
    });
    spawned.push_back(probe);
    REQUIRE(sched.prioritize(probe));
    sched.run_once();
    REQUIRE(sched.prioritize(srv));
    sched.run_once();
    return out;
  }

  // Kills a stand-in ahead of its mailbox: an exit at high priority overtakes
  // the requests waiting there (a plain anon_send_exit would queue behind them), so they
  // bounce back to the server unread.
  void kill_unread(const edge_actor& e) {
    auto doomed = caf::actor_cast<caf::actor>(e);
    caf::anon_send<caf::message_priority::high>(
        doomed, caf::exit_msg{doomed.address(), caf::exit_reason::kill});
    consume_messages();
  }

  // A fresh stand-in registers as edge e while the old one still runs; only the server
  // handles the registration.
  void replace(uint32_t e) {
    edges[e] = stand_in(e);
    caf::anon_send(srv, edge_rejoin{e, caf::actor_cast<caf::actor>(edges[e])});
    REQUIRE(sched.prioritize(srv));
    sched.run_once();
  }

  stand_in_log& edge(uint32_t e) { return *logs.at(e); }

  // An event line refusing an edge's answer names `what`.
  bool answers_refused_with(const std::string& what) const {
    for (auto& e : events)
      if (e.rfind("refused the answer of", 0) == 0 && e.find(what) != std::string::npos)
        return true;
    return false;
  }

  // Edge e answers its i-th edge_ins: every client trained.
  void answer(uint32_t e, uint64_t i) { answer_with(e, i, trained(edge(e).sync.at(i), e)); }

  // Edge e answers its i-th edge_ins or async_ins with `x` (edge_res, caf::error, async_res).
  template <class T>
  void answer_with(uint32_t e, uint64_t i, T x) {
    caf::anon_send(stand_ins.at(e), answer_atom::value, i, std::move(x));
    consume_messages();
  }

  void kill(uint32_t e) {
    caf::anon_send_exit(edges[e], caf::exit_reason::kill);
    consume_messages();
  }

  // A fresh stand-in registers as edge e.
  void rejoin(uint32_t e) {
    edges[e] = stand_in(e);
    caf::anon_send(srv, edge_rejoin{e, caf::actor_cast<caf::actor>(edges[e])});
    consume_messages();
  }

  void advance(caf::timespan t) {
    advance_time(t);
    consume_messages();
  }
};

using clients = std::vector<uint32_t>;
using model = std::vector<float>;

}  // namespace

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: each edge gets its clients, answers in either order make one round "
                 "each, the report has the hand-computed model, a second run_atom is refused",
                 "[actors][shell]") {
  start(shell_sync());
  auto run = ask_run();
  REQUIRE(edge(0).sync.size() == 1);
  REQUIRE(edge(1).sync.size() == 1);
  for (uint32_t e = 0; e < 2; ++e) {
    const auto ins = edge(e).sync[0];
    CHECK(ins.round == 1);
    CHECK(ins.model_version == 0);
    CHECK(ins.seed == 11);
    CHECK(ins.model.values() == initial);
    CHECK(ins.client_timeout_s == 10);
  }
  CHECK(edge(0).sync[0].clients == clients{0, 1});
  CHECK(edge(1).sync[0].clients == clients{2, 3});

  SECTION("a second run_atom while running is refused") {
    auto second = ask_run();
    CHECK(is_error(second->error, errc::bad_request));
    CHECK_FALSE(run->report);
    CHECK_FALSE(run->error);
  }

  // Round 1, answered in reverse order.
  answer(1, 0);
  CHECK(records.empty());
  answer(0, 0);
  REQUIRE(records.size() == 1);
  const auto r1 = records[0];
  CHECK(r1.round == 1);
  CHECK(r1.model_version == 1);
  CHECK(r1.selected == 4);
  CHECK(r1.clients == 4);
  CHECK(r1.failures == 0);
  CHECK(r1.failures_by == failure_counts{});
  // Mean Δ: ((8·1 + 24·2 + 8·3 + 24·4) / 64, -0.5) = (2.75, -0.5); loss (24 + 16 + 72) / 64.
  CHECK(r1.mean_loss == 1.75);
  CHECK(r1.edges_lost == 0);
  CHECK(r1.rerouted == 0);
  CHECK(models[0] == model{3.75f, -1.5f});

  // Round 2 goes out with the new model; answered in order.
  REQUIRE(edge(0).sync.size() == 2);
  REQUIRE(edge(1).sync.size() == 2);
  for (uint32_t e = 0; e < 2; ++e) {
    const auto ins = edge(e).sync[1];
    CHECK(ins.round == 2);
    CHECK(ins.model_version == 1);
    CHECK(ins.model.values() == model{3.75f, -1.5f});
    CHECK(ins.clients == edge(e).sync[0].clients);
  }
  answer(0, 1);
  CHECK(records.size() == 1);
  CHECK_FALSE(run->report);
  answer(1, 1);
  REQUIRE(records.size() == 2);
  CHECK(models[1] == model{6.5f, -2.0f});

  REQUIRE(run->report);
  const auto rep = *run->report;
  CHECK(rep.rounds == 2);
  CHECK(rep.model_version == 2);
  CHECK(rep.model.values() == model{6.5f, -2.0f});
  CHECK(rep.clients_trained == 8);
  CHECK(rep.failures == 0);
  CHECK(counts(rep.failures_by) == failure_counts{});
  CHECK(rep.final_loss == 1.75);
  CHECK(rep.sim_time_s == records[1].sim_time_s);
  CHECK(edge(0).sync.size() == 2);  // nothing after the last round
  CHECK(edge(1).sync.size() == 2);

  SECTION("a run_atom after the end is refused") {
    auto late = ask_run();
    CHECK(is_error(late->error, errc::bad_request));
    CHECK_FALSE(late->report);
  }
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: an edge killed after the other answered has exactly its clients "
                 "rerouted to the survivor, and the round completes",
                 "[actors][shell]") {
  start(shell_sync());
  auto run = ask_run();
  answer(0, 0);
  kill(1);  // it holds its edge_ins, unanswered
  REQUIRE(edge(0).sync.size() == 2);
  const auto again = edge(0).sync[1];
  CHECK(again.round == 1);
  CHECK(again.model_version == 0);
  CHECK(again.clients == clients{2, 3});
  CHECK(records.empty());
  REQUIRE(events.size() == 1);
  CHECK(events[0].find("edge 1 lost") == 0);

  answer(0, 1);
  REQUIRE(records.size() == 1);
  const auto r1 = records[0];
  CHECK(r1.edges_lost == 1);
  CHECK(r1.rerouted == 2);
  CHECK(r1.clients == 4);
  CHECK(r1.failures == 0);
  CHECK(models[0] == model{3.75f, -1.5f});  // where a client trained does not matter

  // Round 2: edge 1 is still gone, every client goes to edge 0 at once.
  REQUIRE(edge(0).sync.size() == 3);
  CHECK(edge(0).sync[2].round == 2);
  CHECK(edge(0).sync[2].clients == clients{0, 1, 2, 3});
  answer(0, 2);
  REQUIRE(records.size() == 2);
  CHECK(records[1].edges_lost == 0);
  CHECK(records[1].rerouted == 2);
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{6.5f, -2.0f});
  CHECK(run->report->failures == 0);
  CHECK(run->report->clients_trained == 8);
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: an edge killed with its edge_ins still in its mailbox has its "
                 "clients rerouted behind the survivor's batch",
                 "[actors][shell]") {
  start(shell_sync());
  begin_run();
  kill_unread(edges[1]);
  CHECK(edge(1).sync.empty());
  // Edge 0 trains one edge_ins at a time: the rerouted clients wait for its answer.
  REQUIRE(edge(0).sync.size() == 1);
  CHECK(edge(0).sync[0].clients == clients{0, 1});
  answer(0, 0);
  REQUIRE(edge(0).sync.size() == 2);
  CHECK(edge(0).sync[1].round == 1);
  CHECK(edge(0).sync[1].clients == clients{2, 3});
  answer(0, 1);
  REQUIRE(records.size() == 1);
  CHECK(records[0].edges_lost == 1);
  CHECK(records[0].rerouted == 2);
  CHECK(records[0].clients == 4);
  CHECK(records[0].failures == 0);
  CHECK(models[0] == model{3.75f, -1.5f});
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: with on_edge_loss drop a lost edge's clients count as edge_lost",
                 "[actors][shell]") {
  auto s = shell_sync();
  s.faults.on_edge_loss = edge_loss_policy::drop;
  start(s);
  auto run = ask_run();
  answer(0, 0);
  kill(1);
  REQUIRE(records.size() == 1);  // nothing rerouted: the round ends at the loss
  const auto r1 = records[0];
  CHECK(r1.edges_lost == 1);
  CHECK(r1.rerouted == 0);
  CHECK(r1.clients == 2);
  CHECK(r1.failures == 2);
  CHECK(r1.failures_by == only(failure_code::edge_lost, 2));
  // Only clients 0 and 1: Δ = ((8·1 + 24·2) / 32, -0.5) = (1.75, -0.5).
  CHECK(models[0] == model{2.75f, -1.5f});

  // Round 2: clients 2 and 3 cannot be reached; 0 and 1 go to edge 0.
  REQUIRE(edge(0).sync.size() == 2);
  CHECK(edge(0).sync[1].round == 2);
  CHECK(edge(0).sync[1].clients == clients{0, 1});
  answer(0, 1);
  REQUIRE(records.size() == 2);
  CHECK(records[1].edges_lost == 0);
  CHECK(records[1].failures_by == only(failure_code::edge_lost, 2));
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{4.5f, -2.0f});
  CHECK(run->report->clients_trained == 4);
  CHECK(run->report->failures == 4);
  CHECK(counts(run->report->failures_by) == only(failure_code::edge_lost, 4));
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: an edge that rejoins with a new handle trains its own clients "
                 "again from the next round",
                 "[actors][shell]") {
  start(shell_sync());
  auto run = ask_run();
  answer(0, 0);
  kill(1);
  auto old_edge = logs[1];
  rejoin(1);
  REQUIRE(events.size() == 2);
  CHECK(events[1] == "edge 1 back in service");
  CHECK(edge(1).sync.empty());  // the round in progress keeps its rerouted batch at edge 0
  answer(0, 1);
  REQUIRE(records.size() == 1);
  CHECK(records[0].edges_lost == 1);
  CHECK(records[0].edges_rejoined == 1);
  CHECK(records[0].rerouted == 2);

  REQUIRE(edge(1).sync.size() == 1);
  CHECK(edge(1).sync[0].round == 2);
  CHECK(edge(1).sync[0].clients == clients{2, 3});
  REQUIRE(edge(0).sync.size() == 3);
  CHECK(edge(0).sync[2].clients == clients{0, 1});
  CHECK(old_edge->sync.size() == 1);
  answer(1, 0);
  answer(0, 2);
  REQUIRE(records.size() == 2);
  CHECK(records[1].rerouted == 0);
  CHECK(records[1].edges_lost == 0);
  CHECK(records[1].clients == 4);
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{6.5f, -2.0f});
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: the timeout of a request to a lost edge, firing in a later round, "
                 "fails none of that round's batches",
                 "[actors][shell]") {
  // Regression: batch ids restarted at 1 every round, so the old request's timeout named a
  // batch of the next round (the same id at the same edge) and failed its clients.
  start(shell_sync());
  auto run = ask_run();
  answer(0, 0);
  kill(1);  // its request (due after 40 s) stays pending: CAF never fails it
  rejoin(1);
  advance(std::chrono::seconds(20));
  answer(0, 1);
  REQUIRE(records.size() == 1);
  REQUIRE(edge(1).sync.size() == 1);  // round 2, due 40 s from now
  advance(std::chrono::seconds(25));  // the lost edge's request times out
  CHECK(records.size() == 1);
  answer(1, 0);
  answer(0, 2);
  REQUIRE(records.size() == 2);
  CHECK(records[1].failures == 0);
  CHECK(records[1].clients == 4);
  REQUIRE(run->report);
  CHECK(run->report->failures == 0);
  CHECK(run->report->model.values() == model{6.5f, -2.0f});
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: an edge answering with an error fails its batch as client_error",
                 "[actors][shell]") {
  auto s = shell_sync();
  s.protocol.rounds = 1;
  start(s);
  auto run = ask_run();
  answer_with(1, 0, make_error(errc::bad_request, "not now"));
  answer(0, 0);
  REQUIRE(records.size() == 1);
  const auto r = records[0];
  CHECK(r.clients == 2);
  CHECK(r.failures == 2);
  CHECK(r.failures_by == only(failure_code::client_error, 2));
  REQUIRE(r.failure_reasons.size() == 1);
  CHECK(r.failure_reasons[0] == "edge 1: bad_request: not now");
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{2.75f, -1.5f});
  CHECK(counts(run->report->failures_by) == only(failure_code::client_error, 2));
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: an edge that never answers times out after its batch deadline",
                 "[actors][shell]") {
  auto s = shell_sync();
  s.protocol.rounds = 1;
  start(s);
  auto run = ask_run();
  answer(0, 0);
  advance(std::chrono::seconds(39));
  CHECK(records.empty());
  advance(std::chrono::seconds(1));  // 10 s per client task, one wave, 30 s slack
  REQUIRE(records.size() == 1);
  const auto r = records[0];
  CHECK(r.clients == 2);
  CHECK(r.failures == 2);
  CHECK(r.failures_by == only(failure_code::timeout, 2));
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{2.75f, -1.5f});
  CHECK(counts(run->report->failures_by) == only(failure_code::timeout, 2));
}

namespace {

// Request deadlines of `who` pending in the test clock.
size_t pending_request_timeouts(caf::scheduler::test_coordinator& sched, const caf::actor& who) {
  using clock = caf::detail::simple_actor_clock;
  const auto self = caf::actor_cast<caf::strong_actor_ptr>(who);
  size_t n = 0;
  for (const auto& [due, ev] : sched.clock().schedule())
    if (ev->subtype == clock::request_timeout_type &&
        static_cast<const clock::request_timeout&>(*ev).self == self)
      ++n;
  return n;
}

}  // namespace

TEST_CASE_METHOD(shell_fixture,
                 "async shell: an answered task leaves no request deadline in the actor clock",
                 "[actors][shell]") {
  // Regression (bench/soak.cpp): CAF 0.17 kept every request's deadline until it passed, so the
  // server's clock grew by one entry per task for training.timeout_s × waves + 30 s.
  start(shell_async());
  const auto server = caf::actor_cast<caf::actor>(srv);
  auto run = ask_run();
  auto sent = [&] { return edge(0).async.size() + edge(1).async.size(); };
  REQUIRE(sent() == 2);
  CHECK(pending_request_timeouts(sched, server) == 2);
  // Every task answered, one at a time: only the unanswered ones keep a deadline.
  size_t answered = 0;
  for (uint64_t i = 0; i < 2; ++i)
    for (uint32_t e = 0; e < 2; ++e) {
      REQUIRE(edge(e).async.size() > i);
      answer_with(e, i, update_for(edge(e).async[i]));
      ++answered;
      INFO("after " << answered << " answers, " << sent() << " tasks sent");
      CHECK(pending_request_timeouts(sched, server) == sent() - answered);
    }
  REQUIRE(records.size() == 2);
  REQUIRE(run->report);
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell: tasks go to the clients' edges and buffer_size updates make one "
                 "step with the hand-computed model",
                 "[actors][shell]") {
  start(shell_async());
  auto run = ask_run();
  REQUIRE(edge(0).async.size() == 1);
  REQUIRE(edge(1).async.size() == 1);
  const auto a = edge(0).async[0];
  const auto b = edge(1).async[0];
  CHECK(a.client == 0);
  CHECK(b.client == 1);
  CHECK(std::set<uint64_t>{a.seq, b.seq} == std::set<uint64_t>{0, 1});
  for (const auto* ins : {&a, &b}) {
    CHECK(ins->base_version == 0);
    CHECK(ins->model.values() == initial);
    CHECK(ins->group == 0);
    CHECK(ins->timeout_s == 10);
  }

  answer_with(1, 0, update_for(b));
  CHECK(records.empty());
  answer_with(0, 0, update_for(a));
  REQUIRE(records.size() == 1);
  const auto r1 = records[0];
  CHECK(r1.async);
  CHECK(r1.round == 1);
  CHECK(r1.model_version == 1);
  CHECK(r1.clients == 2);
  CHECK(r1.failures == 0);
  // Δ = ((8·1 + 24·2) / 32, -0.5); loss (8·0 + 24·1) / 32.
  CHECK(r1.mean_loss == 0.75);
  CHECK(models[0] == model{2.75f, -1.5f});
  REQUIRE(r1.staleness_histogram.size() == 6);
  CHECK(r1.staleness_histogram[0] == 2);
  CHECK(edge(0).closes.empty());
  CHECK(edge(1).closes.empty());

  // Each slot was refilled as its result was released, in seq order: the first before the
  // step (base version 0), the second after it (base version 1).
  REQUIRE(edge(0).async.size() == 2);
  REQUIRE(edge(1).async.size() == 2);
  const auto c = edge(0).async[1];
  const auto d = edge(1).async[1];
  CHECK(std::set<uint64_t>{c.seq, d.seq} == std::set<uint64_t>{2, 3});
  const auto& first = c.seq == 2 ? c : d;
  const auto& second = c.seq == 2 ? d : c;
  CHECK(first.client == (a.seq == 0 ? 0u : 1u));
  CHECK(first.base_version == 0);
  CHECK(first.model.values() == initial);
  CHECK(second.base_version == 1);
  CHECK(second.model.values() == model{2.75f, -1.5f});

  answer_with(0, 1, update_for(c));
  answer_with(1, 1, update_for(d));
  REQUIRE(records.size() == 2);
  CHECK(records[1].clients == 2);
  CHECK(records[1].staleness_histogram[0] == 1);
  CHECK(records[1].staleness_histogram[1] == 1);  // weighed 1: decay constant
  CHECK(models[1] == model{4.5f, -2.0f});
  REQUIRE(run->report);
  const auto rep = *run->report;
  CHECK(rep.rounds == 2);
  CHECK(rep.model_version == 2);
  CHECK(rep.model.values() == model{4.5f, -2.0f});
  CHECK(rep.clients_trained == 4);
  CHECK(rep.total_updates == 4);
  CHECK(rep.failures == 0);
  CHECK(rep.stale_updates == 0);
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell: an answer naming another client or another sample count is "
                 "refused as invalid_update and the client is asked again",
                 "[actors][shell]") {
  auto s = shell_async();
  s.async.aggregations = 1;
  start(s);
  auto run = ask_run();
  const auto a = edge(0).async.at(0);
  const auto b = edge(1).async.at(0);
  answer_with(0, 0, update_for(a, 1, samples_of(1)));  // claims to be client 1
  answer_with(1, 0, update_for(b, 1, 8));              // client 1 has 24 samples
  CHECK(records.empty());
  REQUIRE(edge(0).async.size() == 2);
  REQUIRE(edge(1).async.size() == 2);
  CHECK(edge(0).async[1].client == 0);
  CHECK(edge(1).async[1].client == 1);
  CHECK(std::set<uint64_t>{edge(0).async[1].seq, edge(1).async[1].seq} == std::set<uint64_t>{2, 3});
  answer_with(0, 1, update_for(edge(0).async[1]));
  answer_with(1, 1, update_for(edge(1).async[1]));
  REQUIRE(records.size() == 1);
  const auto r = records[0];
  CHECK(r.clients == 2);
  CHECK(r.failures == 2);
  CHECK(r.failures_by == only(failure_code::invalid_update, 2));
  CHECK(models[0] == model{2.75f, -1.5f});
  REQUIRE(run->report);
  CHECK(run->report->failures == 2);
  CHECK(counts(run->report->failures_by) == only(failure_code::invalid_update, 2));
  CHECK(run->report->clients_trained == 2);
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell: a client result an edge refused counts by reason, a reason "
                 "code or client it cannot have is refused",
                 "[actors][shell]") {
  reset_result_refusals();
  reset_answer_refusals();
  auto s = shell_async();
  s.async.aggregations = 1;
  start(s);
  auto run = ask_run();
  const auto a = edge(0).async.at(0);
  const auto b = edge(1).async.at(0);
  // Edge 0 refused its client's result as the wrong shape; edge 1 names reason code 5, one
  // past non_finite.
  answer_with(
      0, 0,
      async_res{a.seq, a.client, async_refused{2, "client 0: rejected update: has 3 parameters"}});
  answer_with(1, 0, async_res{b.seq, b.client, async_refused{5, "client 1: made up"}});
  CHECK(reported_result_refusals() == result_refusal_counts{0, 0, 1, 0, 0});
  CHECK(answer_refusal_counts()[static_cast<size_t>(answer_refusal::refusal_counts)] == 1);
  CHECK(answers_refused_with("reason code 5"));
  // Both clients are asked again. Edge 1's client now trains; edge 0 refused its result as
  // non-finite, but names client 1 for client 0's task.
  REQUIRE(edge(0).async.size() == 2);
  REQUIRE(edge(1).async.size() == 2);
  answer_with(1, 1, update_for(edge(1).async[1]));
  const auto a2 = edge(0).async[1];
  answer_with(0, 1, async_res{a2.seq, 1, async_refused{4, "client 1: NaN"}});
  CHECK(reported_result_refusals() == result_refusal_counts{0, 0, 1, 0, 0});
  CHECK(answer_refusal_counts()[static_cast<size_t>(answer_refusal::wrong_client)] == 1);
  CHECK(answers_refused_with("for client 1, the task's is 0"));
  // Both slots are refilled (the sampler picks the clients); their updates step the run.
  REQUIRE(edge(0).async.size() + edge(1).async.size() == 6);
  for (uint32_t e : {0u, 1u})
    for (size_t i = 2; i < edge(e).async.size(); ++i)
      answer_with(e, i, update_for(edge(e).async[i]));
  REQUIRE(records.size() == 1);
  CHECK(records[0].failures_by == only(failure_code::invalid_update, 3));
  REQUIRE(run->report);
  CHECK(counts(run->report->failures_by) == only(failure_code::invalid_update, 3));
  CHECK(reported_result_refusals() == result_refusal_counts{0, 0, 1, 0, 0});
  reset_result_refusals();
  reset_answer_refusals();
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell: an edge lost with a task in flight has it resent, same seq, to "
                 "the survivor",
                 "[actors][shell]") {
  auto s = shell_async();
  s.async.aggregations = 1;
  start(s);
  auto run = ask_run();
  const auto lost = edge(1).async.at(0);
  answer_with(0, 0, update_for(edge(0).async.at(0)));
  const size_t before = edge(0).async.size();  // 2 if the answer was released and refilled
  kill(1);
  REQUIRE(edge(0).async.size() == before + 1);
  const auto resent = edge(0).async.back();
  CHECK(resent.seq == lost.seq);
  CHECK(resent.client == 1);
  CHECK(resent.base_version == 0);
  CHECK(resent.model.values() == initial);
  CHECK(records.empty());
  answer_with(0, before, update_for(resent));
  REQUIRE(records.size() == 1);
  const auto r = records[0];
  CHECK(r.edges_lost == 1);
  // The resent task; and when it was seq 0, its release before the step refilled client 1's
  // slot, again through edge 0.
  CHECK(r.rerouted == (lost.seq == 0 ? 2u : 1u));
  CHECK(r.clients == 2);
  CHECK(r.failures == 0);
  CHECK(models[0] == model{2.75f, -1.5f});
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{2.75f, -1.5f});
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: a request bounced by an edge handle a new registration replaced "
                 "fails its batch and leaves the successor in service",
                 "[actors][shell]") {
  // Regression: the bounce (request_receiver_down) was taken for the loss of edge 1 as it is
  // now, so the live successor was marked lost and its clients rerouted.
  start(shell_sync());
  auto run = begin_run();
  auto old_edge = logs[1];
  auto old_handle = edges[1];
  replace(1);
  kill_unread(old_handle);
  REQUIRE(events.size() == 1);
  CHECK(events[0] == "edge 1 replaced by a new registration");
  CHECK(old_edge->sync.empty());
  CHECK(edge(1).sync.empty());
  answer(0, 0);
  REQUIRE(records.size() == 1);
  const auto r1 = records[0];
  CHECK(r1.edges_lost == 0);
  CHECK(r1.rerouted == 0);
  CHECK(r1.clients == 2);
  CHECK(r1.failures_by == only(failure_code::edge_lost, 2));
  CHECK(models[0] == model{2.75f, -1.5f});
  // Round 2: the successor trains edge 1's clients.
  REQUIRE(edge(0).sync.size() == 2);
  CHECK(edge(0).sync[1].clients == clients{0, 1});
  REQUIRE(edge(1).sync.size() == 1);
  CHECK(edge(1).sync[0].round == 2);
  CHECK(edge(1).sync[0].clients == clients{2, 3});
  answer(0, 1);
  answer(1, 0);
  REQUIRE(records.size() == 2);
  CHECK(records[1].failures == 0);
  CHECK(records[1].edges_lost == 0);
  REQUIRE(run->report);
  CHECK(run->report->model.values() == model{5.5f, -2.0f});
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell: a task bounced by an edge handle a new registration replaced "
                 "fails as edge_lost and the client's next task goes to the successor",
                 "[actors][shell]") {
  // Regression: as for sync, the bounce marked the live successor lost.
  auto s = shell_async();
  s.async.aggregations = 1;
  start(s);
  auto run = begin_run();
  auto old_edge = logs[1];
  auto old_handle = edges[1];
  replace(1);
  kill_unread(old_handle);
  CHECK(old_edge->async.empty());
  answer_with(0, 0, update_for(edge(0).async.at(0)));
  REQUIRE(edge(1).async.size() == 1);
  CHECK(edge(1).async[0].client == 1);
  answer_with(1, 0, update_for(edge(1).async[0]));
  // A result is released once every earlier finisher is in: when edge 0's refill was
  // dispatched before client 1's new task, it must answer too.
  if (records.empty() && edge(0).async.size() == 2) answer_with(0, 1, update_for(edge(0).async[1]));
  REQUIRE(records.size() == 1);
  const auto r = records[0];
  CHECK(r.edges_lost == 0);
  CHECK(r.rerouted == 0);
  CHECK(r.clients == 2);
  CHECK(r.failures_by == only(failure_code::edge_lost, 1));
  CHECK(events == std::vector<std::string>{"edge 1 replaced by a new registration"});
  REQUIRE(run->report);
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: with every edge lost before the start, each round ends at once "
                 "and run_atom is answered from its own handler",
                 "[actors][shell]") {
  start(shell_sync());
  kill(0);
  kill(1);
  CHECK(events.empty());  // not running yet: only marked lost
  auto run = ask_run();
  REQUIRE(run->report);
  CHECK(run->report->rounds == 2);
  CHECK(run->report->model_version == 0);
  CHECK(run->report->model.values() == initial);
  CHECK(run->report->clients_trained == 0);
  CHECK(counts(run->report->failures_by) == only(failure_code::edge_lost, 8));
  REQUIRE(records.size() == 2);
  for (const auto& r : records) {
    CHECK(r.clients == 0);
    CHECK(r.failures_by == only(failure_code::edge_lost, 4));
  }
  CHECK(is_error(ask_run()->error, errc::bad_request));
}

// -- stop ----------------------------------------------------------------------------------

namespace {

void send_stop(shell_fixture& f, const std::string& reason) {
  caf::anon_send(f.srv, stop_atom::value, reason);
  f.consume_messages();
}

}  // namespace

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: a stop mid-round abandons the round and answers the run with the "
                 "last completed round's model, marked interrupted",
                 "[actors][shell]") {
  start(shell_sync());
  auto run = ask_run();
  answer(0, 0);
  answer(1, 0);
  REQUIRE(records.size() == 1);
  REQUIRE(edge(0).sync.size() == 2);
  REQUIRE(edge(1).sync.size() == 2);
  answer(0, 1);  // round 2: edge 0 has answered, edge 1 not yet
  CHECK_FALSE(run->report);
  send_stop(*this, "SIGINT");
  REQUIRE(run->report);
  const auto rep = *run->report;
  CHECK(rep.interrupted);
  CHECK(rep.stopped_by == "SIGINT");
  CHECK(rep.rounds == 1);
  CHECK(rep.model_version == 1);
  CHECK(rep.model.values() == model{3.75f, -1.5f});
  CHECK(rep.clients_trained == 4);
  CHECK(rep.failures == 0);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back() == "stopped (SIGINT) after 1 rounds; the round in progress is abandoned");
  // The abandoned batch's answer changes nothing and starts nothing.
  answer(1, 1);
  CHECK(records.size() == 1);
  CHECK(edge(0).sync.size() == 2);
  CHECK(edge(1).sync.size() == 2);
  // Its request's timeout neither.
  advance(std::chrono::seconds(60));
  CHECK(records.size() == 1);
  // A later stop, or run_atom, is refused or ignored.
  send_stop(*this, "SIGTERM");
  auto late = ask_run();
  CHECK(is_error(late->error, errc::bad_request));
}

TEST_CASE_METHOD(shell_fixture, "sync shell: a run that ends normally is not marked interrupted",
                 "[actors][shell]") {
  auto s = shell_sync();
  s.protocol.rounds = 1;
  start(s);
  auto run = ask_run();
  answer(0, 0);
  answer(1, 0);
  REQUIRE(run->report);
  CHECK_FALSE(run->report->interrupted);
  CHECK(run->report->stopped_by.empty());
  send_stop(*this, "SIGINT");  // after the end: ignored
  CHECK(events.empty());
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: a stop before run_atom makes the run end at once with the initial "
                 "model and no round",
                 "[actors][shell]") {
  start(shell_sync());
  send_stop(*this, "SIGTERM");
  auto run = ask_run();
  REQUIRE(run->report);
  CHECK(run->report->interrupted);
  CHECK(run->report->stopped_by == "SIGTERM");
  CHECK(run->report->rounds == 0);
  CHECK(run->report->model.values() == initial);
  CHECK(edge(0).sync.empty());
  CHECK(edge(1).sync.empty());
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell: a stop with tasks in flight dispatches nothing more and answers "
                 "with the last server step's model, marked interrupted",
                 "[actors][shell]") {
  start(shell_async());
  auto run = ask_run();
  answer_with(0, 0, update_for(edge(0).async.at(0)));
  answer_with(1, 0, update_for(edge(1).async.at(0)));
  REQUIRE(records.size() == 1);
  CHECK(models[0] == model{2.75f, -1.5f});
  REQUIRE(edge(0).async.size() == 2);
  REQUIRE(edge(1).async.size() == 2);
  // One update of step 2 is in (buffer 2), the other task still in flight.
  answer_with(0, 1, update_for(edge(0).async.at(1)));
  CHECK(records.size() == 1);
  send_stop(*this, "SIGINT");
  REQUIRE(run->report);
  const auto rep = *run->report;
  CHECK(rep.interrupted);
  CHECK(rep.stopped_by == "SIGINT");
  CHECK(rep.rounds == 1);
  CHECK(rep.model_version == 1);
  CHECK(rep.model.values() == model{2.75f, -1.5f});
  CHECK(rep.clients_trained == 2);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().find("stopped (SIGINT) after 1 steps; ") == 0);
  CHECK(events.back().find(" tasks in flight are abandoned") != std::string::npos);
  // The abandoned task's answer neither steps nor refills.
  const size_t sent0 = edge(0).async.size(), sent1 = edge(1).async.size();
  answer_with(1, 1, update_for(edge(1).async.at(1)));
  CHECK(records.size() == 1);
  CHECK(edge(0).async.size() == sent0);
  CHECK(edge(1).async.size() == sent1);
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: a checkpoint snapshots the client state before the next round goes "
                 "out, follows its round's record, and a server resumed from it runs the rest",
                 "[actors][shell][checkpoint]") {
  auto s = shell_sync();
  s.checkpoint.every = 1;
  std::vector<std::string> log;
  std::vector<std::shared_ptr<const loop_checkpoint>> checkpoints;
  start(s, [&](server_config& cfg) {
    auto on_round = cfg.on_round;
    cfg.on_round = [&, on_round](const round_record& r, const param_blob& m) {
      log.push_back("record " + std::to_string(r.round));
      on_round(r, m);
    };
    cfg.snapshot_client_state = [&](uint32_t round) {
      // The next round's batch has not gone out yet.
      log.push_back("snapshot " + std::to_string(round) + " after " +
                    std::to_string(edge(0).sync.size()) + " batches");
      return "client_state-" + std::to_string(round) + ".db";
    };
    cfg.on_checkpoint = [&](std::shared_ptr<const loop_checkpoint> c) {
      log.push_back("checkpoint " + std::to_string(c->round) + " " + c->client_state);
      checkpoints.push_back(std::move(c));
    };
  });
  auto run = ask_run();
  answer(0, 0);
  answer(1, 0);
  answer(0, 1);
  answer(1, 1);
  REQUIRE(run->report);
  const model two_rounds = run->report->model.values();
  CHECK(two_rounds == model{6.5f, -2.0f});
  // The run's start is its first checkpoint; the checkpoint at the end takes no snapshot:
  // nothing trains after it.
  CHECK(log ==
        std::vector<std::string>{"snapshot 0 after 0 batches", "checkpoint 0 client_state-0.db",
                                 "snapshot 1 after 1 batches", "record 1",
                                 "checkpoint 1 client_state-1.db", "record 2", "checkpoint 2 "});
  REQUIRE(checkpoints.size() == 3);
  CHECK(checkpoints[2]->finished);

  // A second server over fresh stand-ins, from the checkpoint after round 1.
  forget_run();
  start(s, [&](server_config& cfg) {
    cfg.on_checkpoint = [](std::shared_ptr<const loop_checkpoint>) {};
    cfg.resume_state = checkpoints[1]->state;
  });
  auto resumed = ask_run();
  REQUIRE(edge(0).sync.size() == 1);
  CHECK(edge(0).sync[0].round == 2);
  CHECK(edge(0).sync[0].model_version == 1);
  CHECK(edge(0).sync[0].model.values() == model{3.75f, -1.5f});
  answer(0, 0);
  answer(1, 0);
  REQUIRE(resumed->report);
  CHECK(resumed->report->model.values() == two_rounds);
  CHECK(resumed->report->rounds == 2);
  CHECK(resumed->report->clients_trained == 8);
  REQUIRE(records.size() == 1);
  CHECK(records[0].round == 2);
}

TEST_CASE_METHOD(shell_fixture,
                 "shell: a server resumed from the checkpoint at the end reports at once",
                 "[actors][shell][checkpoint]") {
  auto s = shell_async();
  std::shared_ptr<const loop_checkpoint> last;
  start(s, [&](server_config& cfg) {
    cfg.on_checkpoint = [&](std::shared_ptr<const loop_checkpoint> c) { last = std::move(c); };
  });
  auto run = ask_run();
  for (uint64_t i = 0; i < 2; ++i) {
    answer_with(0, i, update_for(edge(0).async.at(i)));
    answer_with(1, i, update_for(edge(1).async.at(i)));
  }
  REQUIRE(run->report);
  REQUIRE(last);
  CHECK(last->finished);
  forget_run();
  start(s, [&](server_config& cfg) { cfg.resume_state = last->state; });
  auto again = ask_run();
  REQUIRE(again->report);
  CHECK(again->report->model.values() == run->report->model.values());
  CHECK(again->report->rounds == 2);
  CHECK(edge(0).async.empty());
  CHECK(edge(1).async.empty());
}

TEST_CASE_METHOD(shell_fixture,
                 "sync shell: a stop mid-round hands a checkpoint of that point (none when the "
                 "clients keep state), from which a resumed server redoes the round",
                 "[actors][shell][checkpoint]") {
  auto s = shell_sync();
  s.checkpoint.every = 5;
  std::vector<std::shared_ptr<const loop_checkpoint>> checkpoints;
  start(s, [&](server_config& cfg) {
    cfg.on_checkpoint = [&](std::shared_ptr<const loop_checkpoint> c) {
      checkpoints.push_back(std::move(c));
    };
  });
  auto run = ask_run();
  answer(0, 0);
  answer(1, 0);
  answer(0, 1);  // round 2: edge 0 has answered, edge 1 not yet
  send_stop(*this, "SIGINT");
  REQUIRE(run->report);
  CHECK(run->report->rounds == 1);
  REQUIRE(checkpoints.size() == 2);  // the start, then the stop's
  CHECK(checkpoints[1]->round == 1);
  CHECK_FALSE(checkpoints[1]->finished);
  CHECK(checkpoints[1]->client_state.empty());
  CHECK(events.back() ==
        "stopped (SIGINT) after 1 rounds; the round in progress is abandoned; "
        "checkpointed here (a resumed run redoes that round)");
  const auto round2_edge0 = edge(0).sync.at(1).clients;
  const auto stopped = checkpoints[1];

  // Resumed: round 2 goes out again to the same clients, from round 1's model.
  forget_run();
  start(s, [&](server_config& cfg) { cfg.resume_state = stopped->state; });
  auto resumed = ask_run();
  REQUIRE(edge(0).sync.size() == 1);
  CHECK(edge(0).sync[0].round == 2);
  CHECK(edge(0).sync[0].clients == round2_edge0);
  CHECK(edge(0).sync[0].model.values() == model{3.75f, -1.5f});
  answer(0, 0);
  answer(1, 0);
  REQUIRE(resumed->report);
  CHECK(resumed->report->model.values() == model{6.5f, -2.0f});  // the uninterrupted run's
  CHECK(resumed->report->clients_trained == 8);

  // With client state (changed by part of the abandoned round), no stop checkpoint.
  forget_run();
  checkpoints.clear();
  start(s, [&](server_config& cfg) {
    cfg.snapshot_client_state = [](uint32_t round) {
      return "client_state-" + std::to_string(round) + ".db";
    };
    cfg.on_checkpoint = [&](std::shared_ptr<const loop_checkpoint> c) {
      checkpoints.push_back(std::move(c));
    };
  });
  auto third = ask_run();
  answer(0, 0);
  send_stop(*this, "SIGTERM");
  REQUIRE(third->report);
  REQUIRE(checkpoints.size() == 1);  // the start only
  CHECK(checkpoints[0]->round == 0);
  CHECK(events.back() ==
        "stopped (SIGTERM) after 0 rounds; the round in progress is abandoned; "
        "not checkpointed here (a resumed run starts from the last checkpoint)");
}

// Model references (docs/communication.md): the edges in other processes, so each version goes
// to an edge in full once, then as a reference. One edge serves both clients.
scenario shell_async_one_edge() {
  auto s = shell_async();
  s.topology.edges = 1;
  return s;
}

void with_references(server_config& cfg) {
  cfg.model_references = true;
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell with model references: a version goes to an edge in full once, "
                 "then by reference, and again in full when the edge cannot match the reference",
                 "[actors][shell]") {
  start(shell_async_one_edge(), with_references);
  auto run = ask_run();
  const auto d0 = model_digest(param_blob{initial});
  REQUIRE(edge(0).async.size() == 2);
  const auto a = edge(0).async[0];
  const auto b = edge(0).async[1];
  CHECK(a.seq == 0);
  CHECK(b.seq == 1);
  // The first task of version 0 carries it with its digest; the second refers to it.
  CHECK_FALSE(a.model_by_reference);
  CHECK(a.model.values() == initial);
  CHECK(a.model_digest == d0);
  CHECK(d0.size() == 64);
  CHECK(b.model_by_reference);
  CHECK(b.model.empty());
  CHECK(b.model_digest == d0);
  CHECK(b.base_version == 0);

  answer_with(0, 0, update_on(a, initial));
  answer_with(0, 1, update_on(b, initial));
  REQUIRE(records.size() == 1);
  CHECK(models[0] == model{2.75f, -1.5f});
  // The refills: seq 2 of version 0 (released before the step) by reference, seq 3 of
  // version 1 in full with version 1's digest.
  REQUIRE(edge(0).async.size() == 4);
  const auto c = edge(0).async[2];
  const auto d = edge(0).async[3];
  CHECK(c.seq == 2);
  CHECK(c.base_version == 0);
  CHECK(c.model_by_reference);
  CHECK(c.model.empty());
  CHECK(c.model_digest == d0);
  CHECK(d.seq == 3);
  CHECK(d.base_version == 1);
  CHECK_FALSE(d.model_by_reference);
  CHECK(d.model.values() == model{2.75f, -1.5f});
  CHECK(d.model_digest == model_digest(param_blob{model{2.75f, -1.5f}}));

  // The edge no longer holds version 0 (restarted, evicted): the same task again, in full,
  // without a failure.
  caf::anon_send(stand_ins.at(0), fail_task_atom::value, uint64_t{2},
                 make_error(errc::model_missing, "no model version 0"));
  consume_messages();
  REQUIRE(edge(0).async.size() == 5);
  const auto again = edge(0).async[4];
  CHECK(again.seq == 2);
  CHECK(again.client == c.client);
  CHECK(again.base_version == 0);
  CHECK_FALSE(again.model_by_reference);
  CHECK(again.model.values() == initial);
  CHECK(again.model_digest == d0);
  CHECK(again.timeout_s == c.timeout_s);

  answer_with(0, 4, update_on(again, initial));
  answer_with(0, 3, update_on(d, model{2.75f, -1.5f}));
  REQUIRE(records.size() == 2);
  CHECK(records[1].failures == 0);
  // Δ as in the one-process run: staleness 1 and 0 weighed alike (decay constant).
  CHECK(models[1] == model{4.5f, -2.0f});
  // Model bytes down count the carried models only: seqs 0, 3 and 2's resend, 2 floats each.
  CHECK(records[0].model_bytes_down + records[1].model_bytes_down == 3 * 8);
  REQUIRE(run->report);
  CHECK(run->report->failures == 0);
  CHECK(run->report->clients_trained == 4);
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell with model references: an edge's new registration is sent the "
                 "full model again",
                 "[actors][shell]") {
  start(shell_async_one_edge(), with_references);
  auto run = ask_run();
  REQUIRE(edge(0).async.size() == 2);
  CHECK_FALSE(edge(0).async[0].model_by_reference);
  CHECK(edge(0).async[1].model_by_reference);
  const auto old_stand_in = stand_ins[0];
  const auto a = edge(0).async[0];
  replace(0);
  // The old edge answers its first task: the refill (version 0 again) goes to the new edge,
  // which holds nothing: in full.
  caf::anon_send(old_stand_in, answer_atom::value, uint64_t{0}, update_on(a, initial));
  consume_messages();
  REQUIRE(edge(0).async.size() == 1);
  const auto c = edge(0).async[0];
  CHECK(c.seq == 2);
  CHECK(c.base_version == 0);
  CHECK_FALSE(c.model_by_reference);
  CHECK(c.model.values() == initial);
  CHECK(c.model_digest == model_digest(param_blob{initial}));
}

TEST_CASE_METHOD(shell_fixture,
                 "async shell without model references (one process): every task shares the "
                 "model's buffer, no digest",
                 "[actors][shell]") {
  start(shell_async_one_edge());
  auto run = ask_run();
  REQUIRE(edge(0).async.size() == 2);
  for (const auto& ins : edge(0).async) {
    CHECK_FALSE(ins.model_by_reference);
    CHECK(ins.model_digest.empty());
    CHECK(ins.model.values() == initial);
  }
  CHECK(edge(0).async[0].model.shares_buffer_with(edge(0).async[1].model));
}
