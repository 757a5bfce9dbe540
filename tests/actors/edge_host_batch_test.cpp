// The edge actor's host-batch path (actors/edge_host_batch.cpp), through the edge: a sync
// round's clients on a client host sent to it in one batch, the host's answer folded, refused,
// or failed, and no batch when the round's settings need every update at the edge.

#include "actors/edge_host_batch.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>

#include <catch2/catch.hpp>

#include "actors/edge.hpp"
#include "actors/trainer.hpp"
#include "messages/edge.hpp"
#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "tests/support/actor_helpers.hpp"
#include "tests/support/edge_helpers.hpp"
#include "tests/support/edge_res_counts.hpp"

using namespace fedactor;
using fedactor::testing::ask;
using fedactor::testing::failed;
using fedactor::testing::make_ins;
using fedactor::testing::reaper;
using fedactor::testing::succeeded;
using fedactor::testing::teacher_cfg;

namespace {

using batch_log = std::vector<std::vector<uint32_t>>;

// A stand-in client host: notes the clients of each batch in `log`, has them trained by
// `trainer` (an edge of its own) and answers that edge's answer, altered by `alter` (if set).
batch_actor trained_by(caf::actor_system& sys, edge_actor trainer, std::shared_ptr<batch_log> log,
                       std::function<void(edge_res&)> alter = {}) {
  return sys.spawn([=](batch_actor::pointer self) -> batch_actor::behavior_type {
    return {[=](edge_ins& ins) -> caf::result<edge_res> {
      log->push_back(ins.clients);
      auto rp = self->make_response_promise<edge_res>();
      self->request(trainer, std::chrono::seconds(60), std::move(ins))
          .then(
              [=](edge_res& r) mutable {
                if (alter) alter(r);
                rp.deliver(std::move(r));
              },
              [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    }};
  });
}

// An edge whose clients below 50 are on client host `host` (host aggregation).
edge_config with_host(std::shared_ptr<const data_source> data, caf::actor trainers,
                      batch_actor host) {
  edge_config ec{0, 8, std::move(data), std::move(trainers)};
  ec.batches = [host](uint32_t id) { return id < 50 ? host : batch_actor{}; };
  return ec;
}

// One actor system with the teacher data, a trainer pool, and the batches its stand-in client
// hosts were sent (`log`).
struct host_batch_world {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  std::shared_ptr<teacher_source> data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  caf::actor trainers = keep(spawn_trainer_pool(sys, spec, 2));
  std::shared_ptr<batch_log> log = std::make_shared<batch_log>();

  // A stand-in client host whose clients train in an edge of its own (trained_by).
  batch_actor stand_in_host(std::function<void(edge_res&)> alter = {}) {
    return keep(trained_by(sys, keep(spawn_edge(sys, edge_config{9, 8, data, trainers})), log,
                           std::move(alter)));
  }
};

}  // namespace

TEST_CASE_METHOD(
    host_batch_world,
    "an edge sends a client host its clients of a round in one batch and folds the host's "
    "aggregate with its own clients' updates",
    "[actors]") {
  auto host = stand_in_host();
  auto e = keep(spawn_edge(sys, with_host(data, trainers, host)));
  auto plain = keep(spawn_edge(sys, edge_config{1, 8, data, trainers}));
  const std::vector<uint32_t> ids{3, 17, 60};
  auto a = ask(sys, e, make_ins(spec, ids));
  auto b = ask(sys, plain, make_ins(spec, ids));
  CHECK(*log == batch_log{{3, 17}});
  CHECK(succeeded(a) == 3);
  CHECK(failed(a).total() == 0);
  CHECK(a.aggregate == b.aggregate);  // exact sums: folded at the host or here, the same bits
  CHECK(a.reports == b.reports);
  CHECK(a.live_clients == 1);  // 60, trained at the edge
  CHECK(a.updates_received == 3);
  // Client 60's model, and the host's aggregate with its 2 client reports.
  const uint64_t model_bytes = 4 * uint64_t{spec.num_params()};
  const uint64_t aggregate_bytes = 48 + 16 * uint64_t{spec.num_params()};
  CHECK(a.update_bytes == model_bytes + aggregate_bytes + 8 + 2 * 24);
}

TEST_CASE_METHOD(
    host_batch_world,
    "an edge refuses a client host's batch answer whose failure counts it cannot read and names "
    "the host",
    "[actors]") {
  // Counts for 7 failure codes: one more than there are.
  auto host = stand_in_host([](edge_res& r) { r.failed_by.assign(7, 0); });
  std::vector<std::pair<caf::actor_addr, std::string>> refused;
  auto ec = with_host(data, trainers, host);
  ec.on_batch_refusal = [&refused](const caf::actor_addr& from, const std::string& why) {
    refused.emplace_back(from, why);
  };
  auto e = keep(spawn_edge(sys, ec));
  auto r = ask(sys, e, make_ins(spec, {3, 17, 60}));
  CHECK(*log == batch_log{{3, 17}});
  CHECK(succeeded(r) == 1);  // 60, trained at the edge
  CHECK(failed(r).total() == 2);
  CHECK(failed(r).of(failure_code::invalid_update) == 2);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].first == host.address());
  CHECK(refused[0].second == "failure counts of 7 codes");
  CHECK(r.failures == std::vector<std::string>{"client host: failure counts of 7 codes, round 1"});
}

TEST_CASE_METHOD(
    host_batch_world,
    "an edge fails each client of a client host's batch that fails with the error's code",
    "[actors]") {
  batch_actor host =
      keep(sys.spawn([log = log](batch_actor::pointer) -> batch_actor::behavior_type {
        return {[log](edge_ins& ins) -> caf::result<edge_res> {
          log->push_back(ins.clients);
          return make_failure(failure_code::edge_lost, "client host 0-49 lost");
        }};
      }));
  auto e = keep(spawn_edge(sys, with_host(data, trainers, host)));
  auto r = ask(sys, e, make_ins(spec, {3, 17, 60}));
  CHECK(*log == batch_log{{3, 17}});
  CHECK(succeeded(r) == 1);  // 60, trained at the edge
  CHECK(failed(r).total() == 2);
  CHECK(failed(r).of(failure_code::edge_lost) == 2);
  REQUIRE(r.failures.size() == 2);  // each client's failure
  for (auto& f : r.failures) CHECK(f.find("client host 0-49 lost") != std::string::npos);
}

TEST_CASE_METHOD(
    host_batch_world,
    "an edge sends no batch in a round whose settings need every update at the edge and says "
    "why once",
    "[actors]") {
  auto host = stand_in_host();
  std::vector<std::string> lines;
  auto ec = with_host(data, trainers, host);
  ec.log = [&lines](const std::string& l) { lines.push_back(l); };
  auto e = keep(spawn_edge(sys, ec));
  auto median = make_ins(spec, {3, 17, 60});
  median.robust.rule = robust_rule_kind::median;
  for (uint32_t round : {1u, 2u}) {
    median.round = round;
    auto r = ask(sys, e, median);
    CHECK(failed(r).total() == 0);
    CHECK(r.updates_received == 3);
    CHECK(r.live_clients == 3);  // every client trained at the edge
  }
  CHECK(log->empty());
  CHECK(lines == std::vector<std::string>{
                     "host aggregation off: robust.rule median needs every update at the edge; "
                     "client hosts send one update per client"});
  // Without the robust rule the host gets its batch again.
  auto plain = make_ins(spec, {3, 17, 60});
  plain.round = 3;
  auto r = ask(sys, e, plain);
  CHECK(succeeded(r) == 3);
  CHECK(*log == batch_log{{3, 17}});
  CHECK(lines.size() == 1);
}
