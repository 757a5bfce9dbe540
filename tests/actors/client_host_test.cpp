// The distributed roles' actors in one process: client host, host link and directory at
// the edge.

#include "actors/client_host.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/edge.hpp"
#include "actors/edge_node.hpp"
#include "actors/trainer.hpp"
#include "messages/errors.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/protocol/client_report.hpp"
#include "tests/support/actor_helpers.hpp"
#include "tests/support/edge_helpers.hpp"
#include "tests/support/edge_res_counts.hpp"

using namespace fedactor;
using fedactor::testing::ask;
using fedactor::testing::failed;
using fedactor::testing::faulty_source;
using fedactor::testing::make_ins;
using fedactor::testing::reaper;
using fedactor::testing::request_for;
using fedactor::testing::succeeded;
using fedactor::testing::teacher_cfg;

namespace {

constexpr auto wait = std::chrono::seconds(60);

train_ins task(const model_spec& spec, uint32_t client) {
  train_ins ins;
  ins.round = 1;
  ins.client = client;
  ins.task_seed = 7 + client;
  ins.model = param_blob{initial_params(spec, 5)};
  ins.settings = train_settings{1, 32, 0.05, 0.9, "fedavg", {}, {}};
  ins.timeout_s = 60;
  return ins;
}

// A trainer that accepts every task and never answers; it tells `notify` (if any) the
// client id of each task it got.
caf::actor black_hole(caf::actor_system& sys, caf::actor notify = nullptr) {
  return sys.spawn([notify](caf::event_based_actor* self) -> caf::behavior {
    return {[=](train_task& t) -> caf::result<train_res> {
      if (notify) caf::anon_send(notify, t.ins.client);
      return self->make_response_promise<train_res>();
    }};
  });
}

}  // namespace

TEST_CASE("a client host trains the clients of its range and refuses the others", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 1));
  client_host_config hc;
  hc.first = 10;
  hc.last = 19;
  hc.max_live = 2;
  hc.data = data;
  hc.trainers = trainers;
  auto host = keep(sys.spawn(client_host, hc));
  caf::scoped_actor self{sys};
  for (uint32_t id : {10u, 11u, 12u, 19u}) {
    self->request(host, wait, task(spec, id))
        .receive(
            [&](train_res& r) {
              CHECK(r.client == id);
              CHECK(r.num_samples == data->num_samples(id));
              CHECK(r.params.size() == spec.num_params());
            },
            [&](caf::error& err) { FAIL(describe(err)); });
  }
  // 4 clients through a live set of 2: the host evicted 2 (its own count, checked at
  // shutdown below). The process-wide count of client states may still include an evicted
  // actor whose exit message is being processed on another scheduler thread.
  CHECK(live_client_actors() <= 2 + 2);
  std::string refused;
  self->request(host, wait, task(spec, 20))
      .receive([](train_res&) { FAIL("client 20 is not hosted here"); },
               [&](caf::error& err) { refused = describe(err); });
  CHECK(refused == "bad_request: client 20 is not hosted here (10-19)");
  // node_shutdown ends the host's watch with the reason and its counts.
  self->request(host, wait, node_shutdown{"run complete"})
      .receive([](node_ack&) {}, [](caf::error&) {});
  self->request(host, wait, await_end_atom::value)
      .receive(
          [](std::string& s) {
            CHECK(s == "shutdown: run complete (4 tasks trained, 1 failed, 2 evictions)");
          },
          [&](caf::error& err) { FAIL(describe(err)); });
}

TEST_CASE("a shutdown that reaches a client host before it watches its edge still ends it",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  model_spec spec;
  client_host_config hc;
  hc.first = 0;
  hc.last = 9;
  hc.data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  hc.trainers = keep(spawn_trainer_pool(sys, spec, 1));
  auto host = keep(sys.spawn(client_host, hc));
  caf::scoped_actor self{sys};
  // The edge accepted the host and the run ended at once: the shutdown comes first...
  self->request(host, wait, node_shutdown{"run complete"})
      .receive([](node_ack& a) { CHECK(a.accepted); },
               [](caf::error& err) { FAIL(describe(err)); });
  // ...then the node's main thread starts watching the edge, and waits for the end.
  auto edge = keep(black_hole(sys));
  self->send(host, watch_atom::value, edge);
  std::string end;
  self->request(host, wait, await_end_atom::value)
      .receive([&](std::string& s) { end = s; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(end == "shutdown: run complete (0 tasks trained, 0 failed, 0 evictions)");
}

TEST_CASE("a client host told to stop ends its wait with the reason and its counts", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  model_spec spec;
  client_host_config hc;
  hc.first = 0;
  hc.last = 9;
  hc.data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  hc.trainers = keep(spawn_trainer_pool(sys, spec, 1));
  auto host = keep(sys.spawn(client_host, hc));
  caf::scoped_actor self{sys};
  self->send(host, watch_atom::value, keep(black_hole(sys)));
  self->send(host, await_end_atom::value);  // answered as a plain message
  self->send(host, stop_atom::value, std::string{"SIGINT"});
  std::string end;
  self->receive([&](std::string& s) { end = s; },
                caf::after(wait) >> [] { FAIL("no end after the stop"); });
  CHECK(end == "stopped: SIGINT (0 tasks trained, 0 failed, 0 evictions)");
}

TEST_CASE(
    "an edge sends covered ids to their client host one by one or in one batch, trains the rest, "
    "same aggregate",
    "[actors]") {
  // Batched: host aggregation, the host answers one aggregate for its clients of the round.
  const bool batched = GENERATE(false, true);
  CAPTURE(batched);
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 2));
  client_host_config hc;
  hc.first = 0;
  hc.last = 49;
  hc.data = data;
  hc.trainers = trainers;
  auto host = keep(sys.spawn(client_host, hc));
  auto directory = std::make_shared<client_directory>();
  auto link = keep(sys.spawn(host_link, client_host_actor{host}, 0u, 49u, directory));
  directory->add(0, 49, link, "host a");
  CHECK(directory->find(49) == link);
  CHECK_FALSE(directory->find(50));
  CHECK(directory->find_batch(49));
  CHECK_FALSE(directory->find_batch(50));
  std::vector<std::string> lines;
  edge_config with_hosts{0, 8, data, trainers};
  with_hosts.provider = [directory](uint32_t id) { return directory->find(id); };
  if (batched) with_hosts.batches = [directory](uint32_t id) { return directory->find_batch(id); };
  with_hosts.log = [&lines](const std::string& l) { lines.push_back(l); };
  auto e1 = keep(spawn_edge(sys, with_hosts));
  auto e2 = keep(spawn_edge(sys, edge_config{1, 8, data, trainers}));
  std::vector<uint32_t> ids{3, 17, 42, 49, 50, 61, 88};
  auto a = ask(sys, e1, make_ins(spec, ids));
  auto b = ask(sys, e2, make_ins(spec, ids));
  CHECK(succeeded(a) == ids.size());
  CHECK(failed(a).total() == 0);
  CHECK(a.aggregate == b.aggregate);  // exact sums: where a client trains or folds changes no bit
  CHECK(a.reports == b.reports);      // the same client ids, samples, losses and norms
  CHECK(a.live_clients == 3);         // 50, 61, 88 trained at the edge itself
  // Batched, the host's 4 clients came up as one aggregate and their reports, not 4 models.
  const uint64_t model_bytes = 4 * uint64_t{spec.num_params()};
  const uint64_t aggregate_bytes = 48 + 16 * uint64_t{spec.num_params()};
  CHECK(a.updates_received == 7);
  CHECK(a.update_bytes ==
        (batched ? 3 * model_bytes + aggregate_bytes + 8 + 4 * 24 : 7 * model_bytes));
  CHECK(lines.empty());
  // A robust rule needs every update at the edge: one task per client, the reason logged once.
  auto median = make_ins(spec, ids);
  median.round = 2;
  median.robust.rule = robust_rule_kind::median;
  auto m1 = ask(sys, e1, median);
  median.round = 3;
  auto m1_again = ask(sys, e1, median);
  auto m2 = ask(sys, e2, median);
  CHECK(m1_again.aggregate == m2.aggregate);  // both round 3
  CHECK(m1_again.updates_received == 7);
  CHECK(m1.update_bytes == 7 * model_bytes);
  if (batched)
    CHECK(lines == std::vector<std::string>{
                       "host aggregation off: robust.rule median needs every update at the edge; "
                       "client hosts send one update per client"});
  else
    CHECK(lines.empty());  // no batches to turn off
  // The host trained 12 clients: 4 in round 1 (one by one or in its batch), 8 one by one.
  caf::scoped_actor self{sys};
  self->request(host, wait, node_shutdown{"run complete"})
      .receive([](node_ack&) {}, [](caf::error&) {});
  self->request(host, wait, await_end_atom::value)
      .receive(
          [](std::string& s) {
            CHECK(s.rfind("shutdown: run complete (12 tasks trained, 0 "
                          "failed",
                          0) == 0);
          },
          [&](caf::error& err) { FAIL(describe(err)); });
}

TEST_CASE("an edge refuses a batch answer that does not fit its record and names the peer",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 1));
  // A host that claims one more sample for every client it folds.
  auto honest = keep(spawn_edge(sys, edge_config{9, 8, data, trainers}));
  batch_actor rogue =
      keep(sys.spawn([honest](batch_actor::pointer self) -> batch_actor::behavior_type {
        return {[=](edge_ins& ins) -> caf::result<edge_res> {
          auto rp = self->make_response_promise<edge_res>();
          self->request(honest, wait, std::move(ins))
              .then(
                  [=](edge_res& r) mutable {
                    auto reports = *decode_client_reports(r.reports.data(), r.reports.size());
                    for (auto& c : reports) ++c.samples;
                    r.reports = encode_client_reports(reports);
                    rp.deliver(std::move(r));
                  },
                  [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
          return rp;
        }};
      }));
  std::vector<std::pair<caf::actor_addr, std::string>> refused;
  edge_config ec{0, 8, data, trainers};
  ec.batches = [rogue](uint32_t id) { return id < 50 ? rogue : batch_actor{}; };
  ec.on_batch_refusal = [&refused](const caf::actor_addr& from, const std::string& why) {
    refused.emplace_back(from, why);
  };
  auto e = keep(spawn_edge(sys, ec));
  auto r = ask(sys, e, make_ins(spec, {3, 17, 60}));
  CHECK(succeeded(r) == 1);  // 60, trained at the edge
  CHECK(failed(r).of(failure_code::invalid_update) == 2);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].first == rogue.address());
  CHECK(refused[0].second == "client 3 reported " + std::to_string(data->num_samples(3) + 1) +
                                 " samples, the registry holds " +
                                 std::to_string(data->num_samples(3)));
  REQUIRE_FALSE(r.failures.empty());
  CHECK(r.failures[0] == "client host: " + refused[0].second + ", round 1");
}

TEST_CASE("a client host that dies fails its tasks at once and the edge's round completes",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  caf::scoped_actor self{sys};
  auto hole = keep(black_hole(sys, caf::actor_cast<caf::actor>(self)));
  client_host_config hc;
  hc.first = 0;
  hc.last = 99;
  hc.data = data;
  hc.trainers = hole;  // its clients never finish
  auto host = keep(sys.spawn(client_host, hc));
  auto directory = std::make_shared<client_directory>();
  auto link = keep(sys.spawn(host_link, client_host_actor{host}, 0u, 99u, directory));
  directory->add(0, 99, link);
  edge_config ec{0, 8, data, hole};
  ec.provider = [directory](uint32_t id) { return directory->find(id); };
  // One task per client, or one batch for the host (host aggregation): the same failures.
  const bool batched = GENERATE(false, true);
  CAPTURE(batched);
  if (batched) ec.batches = [directory](uint32_t id) { return directory->find_batch(id); };
  auto e = keep(spawn_edge(sys, ec));
  request_for<edge_res>(sys, caf::actor_cast<caf::actor>(self), e, make_ins(spec, {1, 2, 3}));
  // Wait until the host's three clients have handed their tasks to the trainer.
  std::vector<uint32_t> training;
  for (int i = 0; i < 3; ++i)
    self->receive([&](uint32_t id) { training.push_back(id); },
                  caf::after(std::chrono::seconds(20)) >> [] { FAIL("a task never arrived"); });
  std::sort(training.begin(), training.end());
  CHECK(training == std::vector<uint32_t>{1, 2, 3});
  const auto t0 = std::chrono::steady_clock::now();
  edge_res res;
  // The tasks (60 s timeout each) are in flight at the host; the host goes away.
  self->send_exit(host, caf::exit_reason::kill);
  self->receive([&](edge_res& r) { res = std::move(r); },
                [&](caf::error& err) { FAIL(describe(err)); },
                caf::after(std::chrono::seconds(20)) >> [] { FAIL("no edge_res"); });
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(succeeded(res) == 0);
  CHECK(failed(res).total() == 3);
  CHECK(failed(res).of(failure_code::edge_lost) == 3);
  REQUIRE_FALSE(res.failures.empty());
  INFO(res.failures[0]);
  CHECK(res.failures[0].find("client host 0-99 lost") != std::string::npos);
  CHECK(res.failures.size() == 3);  // each client's failure, also from a lost batch
  CHECK(directory->size() == 0);    // the link left the directory: the ids train at the edge
}

TEST_CASE(
    "a client host trains a task by reference on the model it holds and refuses a reference it "
    "cannot match",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 1));
  client_host_config hc;
  hc.first = 10;
  hc.last = 19;
  hc.data = data;
  hc.trainers = trainers;
  hc.model_window = 0;  // sync: the latest version only
  auto host = keep(sys.spawn(client_host, hc));
  auto fresh = keep(sys.spawn(client_host, hc));
  caf::scoped_actor self{sys};
  auto send = [&](const auto& to, host_task t) {
    std::pair<train_res, std::string> out;
    self->request(to, wait, std::move(t))
        .receive([&](train_res& r) { out.first = std::move(r); },
                 [&](caf::error& err) { out.second = describe(err); });
    return out;
  };
  auto with_version = [&](uint32_t client, uint64_t version) {
    auto ins = task(spec, client);
    ins.model_version = version;
    return ins;
  };
  const auto model = task(spec, 10).model;
  const auto digest = model_digest(model);
  auto by_reference = [&](uint32_t client, uint64_t version, std::string d) {
    auto ins = with_version(client, version);
    ins.model = param_blob{};
    return host_task{ins, std::move(d), true};
  };
  // Nothing held yet: the reference is refused, naming the version and digest.
  auto a = send(host, by_reference(10, 1, digest));
  CHECK(a.second ==
        "model_missing: client host 10-19 holds no model version 1 with digest " + digest);
  // The full model, then a reference to it: client 11 trains on the held model, exactly as
  // on the model sent in full (to another host).
  a = send(host, host_task{with_version(10, 1), digest, false});
  REQUIRE(a.second.empty());
  CHECK(a.first.client == 10);
  a = send(host, by_reference(11, 1, digest));
  REQUIRE(a.second.empty());
  auto b = send(fresh, host_task{with_version(11, 1), digest, false});
  REQUIRE(b.second.empty());
  CHECK(a.first.client == 11);
  CHECK(a.first.num_samples == data->num_samples(11));
  REQUIRE(a.first.params.size() == spec.num_params());
  CHECK(a.first.params.values() == b.first.params.values());
  // A reference whose digest is not the held model's bytes never trains.
  std::vector<float> other = model.values();
  other[0] += 1.0f;
  const auto other_digest = model_digest(param_blob{other});
  a = send(host, by_reference(12, 1, other_digest));
  CHECK(a.second ==
        "model_missing: client host 10-19 holds no model version 1 with digest " + other_digest);
  // A full model that does not match the digest it comes with is refused.
  auto wrong = with_version(12, 2);
  wrong.model = param_blob{other};
  a = send(host, host_task{wrong, digest, false});
  CHECK(a.second == "bad_request: client 12: model version 2 does not match its digest " + digest);
  // A task both carrying and naming a model is refused.
  a = send(host, host_task{with_version(12, 1), digest, true});
  CHECK(a.second == "bad_request: client 12: a task that both refers to and carries a model");
  // Version 2 arrives: with window 0 version 1 is gone, version 2 goes by reference.
  auto v2 = with_version(12, 2);
  v2.model = param_blob{other};
  a = send(host, host_task{v2, other_digest, false});
  REQUIRE(a.second.empty());
  a = send(host, by_reference(13, 1, digest));
  CHECK(a.second ==
        "model_missing: client host 10-19 holds no model version 1 with digest " + digest);
  a = send(host, by_reference(13, 2, other_digest));
  CHECK(a.second.empty());
  CHECK(a.first.client == 13);
}

TEST_CASE("a client host prepares its clients in its batch edge but not a range beyond max_live",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto data = std::make_shared<faulty_source>();  // counts; its faulty clients 2 and 4 are not here
  model_spec spec;
  auto trainers = keep(spawn_trainer_pool(sys, spec, 2));
  client_host_config hc;
  hc.first = 10;
  hc.last = 19;
  hc.max_live = 10;
  hc.data = data;
  hc.trainers = trainers;
  auto host = keep(sys.spawn(client_host, hc));
  caf::scoped_actor self{sys};
  auto prepared = [&](const client_host_control_actor& h) {
    uint32_t n = 99;
    self->request(h, wait, prepare_atom::value)
        .receive([&](uint32_t got) { n = got; }, [&](caf::error& err) { FAIL(describe(err)); });
    return n;
  };
  CHECK(prepared(host) == 10);
  CHECK(data->made == 10);
  // A batch of the round trains the prepared clients: no dataset is built again.
  host_batch b;
  b.ins = make_ins(spec, {10, 14, 19});
  b.model_digest = model_digest(b.ins.model);
  edge_res res;
  self->request(host, wait, b)
      .receive([&](edge_res& r) { res = std::move(r); },
               [&](caf::error& err) { FAIL(describe(err)); });
  CHECK(succeeded(res) == 3);
  CHECK(data->made == 10);
  // Eleven clients do not fit ten live ones: nothing is built before their first task.
  hc.last = 20;
  auto wide = keep(sys.spawn(client_host, hc));
  CHECK(prepared(wide) == 0);
  CHECK(data->made == 10);
}
