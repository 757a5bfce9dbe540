// Tests of runtime/protocol/sync_loop.*: synchronous rounds driven by edge answers, failures and
// losses, with stand-in edge aggregates so that every model is computed by hand (or, for the
// stateful server optimizers, by a fresh optimizer of the same kind on the hand-made mean).

#include "runtime/protocol/sync_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/math/rng.hpp"
#include "tests/support/protocol_helpers.hpp"

using namespace fedactor;
using fedactor::testing::aggregate_of;
using fedactor::testing::term;

namespace {

// A sync loop over a scenario without data: the registry's sample counts come from `samples`,
// the server optimizer is a fresh `kind` with its defaults, the sampler is random.
struct sync_fixture {
  scenario sc;
  std::shared_ptr<client_registry> registry;
  std::unique_ptr<edge_set> edges;  // outlives the loop
  std::unique_ptr<sync_loop> loop;

  sync_fixture(
      scenario s, std::vector<float> model, const std::string& kind = "sgd",
      std::function<uint32_t(client_id)> samples = [](client_id) { return 10u; },
      uint32_t edge_capacity = 1)
      : sc(std::move(s)) {
    registry = testing::make_registry(sc, std::move(samples));
    edges = testing::make_edge_set(sc);
    sync_loop::parts p{registry, make_sampler(sc.selection.strategy, *registry, sc.seed),
                       testing::fresh_optimizer(kind, model.size())};
    loop = std::make_unique<sync_loop>(sc, std::move(p), *edges, std::move(model), edge_capacity);
  }
};

// 4 clients over 2 edges (edge 0 serves 0, 1; edge 1 serves 2, 3), all 4 picked every round.
scenario four_over_two(uint32_t rounds = 1) {
  auto sc = testing::loop_scenario(4, 2);
  sc.protocol.rounds = rounds;
  sc.training.timeout_s = 10;
  return sc;
}

edge_report report(const sync_task& t, const std::vector<term>& terms, failure_counts failed = {}) {
  edge_report r;
  r.round = t.round;
  r.aggregate = aggregate_of(2, terms);
  r.failed = failed;
  return r;
}

failure_counts one(failure_code c, uint32_t n = 1) {
  failure_counts f;
  f.add(c, n);
  return f;
}

const sync_task& task_on(const std::vector<sync_task>& ts, uint32_t edge) {
  for (const auto& t : ts)
    if (t.batch.edge == edge) return t;
  FAIL("no task for edge " << edge);
  return ts.front();
}

// Round answers whose weighted mean Δ is (2.5, 1) with mean loss 1.125 (three updates, one
// client_error): edge 0: client 0 Δ (1, -2) n 10 loss 0.5, client 1 Δ (3, 2) n 30 loss 1.5;
// edge 1: client 2 Δ (2.5, 1) n 40 loss 1, client 3 failed.
// Σn = 80; mean = ((10 + 90 + 100) / 80, (-20 + 60 + 40) / 80) = (2.5, 1);
// loss = (5 + 45 + 40) / 80 = 1.125.
sync_step answer_round_a(sync_loop& loop, const std::vector<sync_task>& send) {
  auto& t0 = task_on(send, 0);
  auto& t1 = task_on(send, 1);
  auto s0 = loop.answered(t0.batch.id, report(t0, {{{1, -2}, 10, 0.5}, {{3, 2}, 30, 1.5}}));
  CHECK(s0.rounds.empty());
  CHECK(s0.send.empty());
  return loop.answered(t1.batch.id,
                       report(t1, {{{2.5, 1}, 40, 1.0}}, one(failure_code::client_error)));
}
const std::vector<float> mean_a = {2.5f, 1.0f};

// Round answers with mean Δ (1, 0.5), loss 2, four updates: edge 0: clients 0, 1 Δ (1, 0.5)
// n 10 each; edge 1: clients 2, 3 Δ (0, 1) n 5 and Δ (2, 0) n 5. Σn = 30;
// mean = ((10 + 10 + 0 + 10) / 30, (5 + 5 + 5 + 0) / 30) = (1, 0.5).
sync_step answer_round_b(sync_loop& loop, const std::vector<sync_task>& send) {
  auto& t0 = task_on(send, 0);
  auto& t1 = task_on(send, 1);
  loop.answered(t0.batch.id, report(t0, {{{1, 0.5}, 10, 2}, {{1, 0.5}, 10, 2}}));
  return loop.answered(t1.batch.id, report(t1, {{{0, 1}, 5, 2}, {{2, 0}, 5, 2}}));
}
const std::vector<float> mean_b = {1.0f, 0.5f};

// Every batch of `send` answered with each client's Δ = (client + 1, 1), n = 10; the last step.
sync_step answer_each(sync_loop& loop, const std::vector<sync_task>& send) {
  sync_step last;
  for (const auto& t : send) {
    std::vector<term> terms;
    for (auto c : t.batch.clients) terms.push_back({{static_cast<float>(c + 1), 1.0f}, 10, 1.0});
    last = loop.answered(t.batch.id, report(t, terms));
  }
  return last;
}

}  // namespace

TEST_CASE("sync_loop needs its parts and a model", "[protocol]") {
  auto sc = four_over_two();
  auto registry = testing::make_registry(sc, [](client_id) { return 10u; });
  auto edges = testing::make_edge_set(sc);
  auto parts = [&] {
    return sync_loop::parts{registry, make_sampler(sc.selection.strategy, *registry, sc.seed),
                            testing::fresh_optimizer("sgd", 2)};
  };
  auto no_sampler = parts();
  no_sampler.pick.reset();
  CHECK_THROWS_AS(sync_loop(sc, std::move(no_sampler), *edges, {0, 0}, 1), std::invalid_argument);
  auto no_optimizer = parts();
  no_optimizer.optimizer.reset();
  CHECK_THROWS_AS(sync_loop(sc, std::move(no_optimizer), *edges, {0, 0}, 1), std::invalid_argument);
  auto no_registry = parts();
  no_registry.registry.reset();
  CHECK_THROWS_AS(sync_loop(sc, std::move(no_registry), *edges, {0, 0}, 1), std::invalid_argument);
  CHECK_THROWS_AS(sync_loop(sc, parts(), *edges, {}, 1), std::invalid_argument);
}

TEST_CASE("sync_loop start sends one batch per edge with the round's model and deadline",
          "[protocol]") {
  sync_fixture f(four_over_two(), {1, 2});
  auto step = f.loop->start();
  CHECK(f.loop->running());
  REQUIRE(step.send.size() == 2);
  CHECK(step.rounds.empty());
  CHECK_FALSE(step.finished);
  const auto& t0 = task_on(step.send, 0);
  const auto& t1 = task_on(step.send, 1);
  CHECK(t0.batch.clients == std::vector<uint32_t>{0, 1});
  CHECK(t1.batch.clients == std::vector<uint32_t>{2, 3});
  CHECK(t0.round == 1);
  CHECK(t0.model_version == 0);
  CHECK(t0.model == f.loop->model());  // the same snapshot, not a copy
  CHECK(t1.model == f.loop->model());
  // 2 clients at an edge that trains 1 at a time: 2 waves of 10 s, plus 30 s of slack.
  CHECK(t0.timeout_s == 50.0);
  CHECK(f.loop->batch(t0.batch.id) != nullptr);
  // A second start changes nothing.
  CHECK(f.loop->start().send.empty());
}

TEST_CASE("sync_loop batch deadline counts waves of the edge capacity", "[protocol]") {
  sync_fixture f(
      four_over_two(), {1, 2}, "sgd", [](client_id) { return 10u; }, 2);
  auto step = f.loop->start();
  REQUIRE(step.send.size() == 2);
  // 2 clients, 2 at a time: one wave of 10 s, plus 30 s.
  CHECK(step.send[0].timeout_s == 40.0);
}

TEST_CASE("sync_loop ends a round when every batch is answered, sgd lr 1 gives the weighted mean",
          "[protocol]") {
  sync_fixture f(four_over_two(), {1, 2});
  auto start = f.loop->start();
  auto step = answer_round_a(*f.loop, start.send);
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.finished);
  CHECK(step.send.empty());
  // next = current + 1 · mean Δ = (1 + 2.5, 2 + 1).
  const std::vector<float> expected{3.5f, 3.0f};
  CHECK(*f.loop->model() == expected);
  CHECK(*step.rounds[0].model == expected);
  const auto& rec = step.rounds[0].record;
  CHECK_FALSE(rec.async);
  CHECK(rec.round == 1);
  CHECK(rec.model_version == 1);
  CHECK(rec.selected == 4);
  CHECK(rec.clients == 3);
  CHECK(rec.failures == 1);
  CHECK(rec.failures_by.of(failure_code::client_error) == 1);
  CHECK(rec.mean_loss == 1.125);
  CHECK(rec.dropped == 0);
  CHECK(f.loop->version() == 1);
  CHECK(f.loop->rounds_done() == 1);
  CHECK(f.loop->finished());
  CHECK_FALSE(f.loop->running());
  CHECK(f.loop->totals().clients_trained == 3);
  CHECK(f.loop->totals().failures.of(failure_code::client_error) == 1);
  CHECK(f.loop->totals().final_loss == 1.125);
}

TEST_CASE("sync_loop gives the same model whichever edge answers first", "[protocol]") {
  sync_fixture a(four_over_two(), {1, 2});
  sync_fixture b(four_over_two(), {1, 2});
  auto sa = a.loop->start();
  auto sb = b.loop->start();
  answer_round_a(*a.loop, sa.send);
  // b: edge 1 first, then edge 0.
  auto& t0 = task_on(sb.send, 0);
  auto& t1 = task_on(sb.send, 1);
  b.loop->answered(t1.batch.id, report(t1, {{{2.5, 1}, 40, 1.0}}, one(failure_code::client_error)));
  b.loop->answered(t0.batch.id, report(t0, {{{1, -2}, 10, 0.5}, {{3, 2}, 30, 1.5}}));
  CHECK(*a.loop->model() == *b.loop->model());
  CHECK(a.loop->totals().final_loss == b.loop->totals().final_loss);
}

TEST_CASE("sync_loop with fedavgm carries the server momentum from round to round", "[protocol]") {
  sync_fixture f(four_over_two(2), {1, 2}, "fedavgm");
  auto step = answer_round_a(*f.loop, f.loop->start().send);
  REQUIRE(step.rounds.size() == 1);
  // Step 1 (lr 1, μ 0.9): v = Δ1 = (2.5, 1); next = (1, 2) + v = (3.5, 3).
  CHECK(*f.loop->model() == std::vector<float>{3.5f, 3.0f});
  REQUIRE(step.send.size() == 2);
  CHECK(step.send[0].round == 2);
  CHECK(step.send[0].model_version == 1);
  step = answer_round_b(*f.loop, step.send);
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.finished);
  // Step 2: v = 0.9·(2.5, 1) + (1, 0.5) = (3.25, 1.4); next = (3.5, 3) + v = (6.75, 4.4),
  // v in double, next rounded to float once.
  const std::vector<float> expected{static_cast<float>(3.5 + (0.9 * 2.5 + 1.0)),
                                    static_cast<float>(3.0 + (0.9 * 1.0 + 0.5))};
  CHECK(expected[0] == 6.75f);
  CHECK(*f.loop->model() == expected);
  CHECK(f.loop->version() == 2);
  CHECK(step.rounds[0].record.round == 2);
  CHECK(step.rounds[0].record.model_version == 2);
}

TEST_CASE("sync_loop runs the same protocol under every server optimizer", "[protocol]") {
  for (const auto& kind : server_optimizer_kinds()) {
    CAPTURE(kind);
    sync_fixture f(four_over_two(2), {1, 2}, kind);
    auto start = f.loop->start();
    REQUIRE(start.send.size() == 2);
    auto step = answer_round_a(*f.loop, start.send);
    REQUIRE(step.rounds.size() == 1);
    CHECK_FALSE(step.finished);
    CHECK(step.rounds[0].record.clients == 3);
    CHECK(step.rounds[0].record.failures_by.of(failure_code::client_error) == 1);
    CHECK(step.rounds[0].record.model_version == 1);
    CHECK(*f.loop->model() == testing::optimizer_path(kind, {1, 2}, {mean_a}));
    REQUIRE(step.send.size() == 2);
    CHECK(step.send[0].model_version == 1);
    CHECK(step.send[0].model == f.loop->model());
    step = answer_round_b(*f.loop, step.send);
    REQUIRE(step.rounds.size() == 1);
    CHECK(step.finished);
    CHECK(step.rounds[0].record.clients == 4);
    CHECK(step.rounds[0].record.failures == 0);
    CHECK(step.rounds[0].record.mean_loss == 2.0);
    CHECK(f.loop->version() == 2);
    CHECK(*f.loop->model() == testing::optimizer_path(kind, {1, 2}, {mean_a, mean_b}));
    CHECK(f.loop->totals().clients_trained == 7);
  }
}

TEST_CASE("sync_loop stops after protocol.rounds and then ignores every event", "[protocol]") {
  sync_fixture f(four_over_two(2), {1, 2});
  auto step = answer_round_a(*f.loop, f.loop->start().send);
  REQUIRE(step.rounds.size() == 1);
  CHECK_FALSE(step.finished);
  CHECK_FALSE(f.loop->finished());
  CHECK(f.loop->running());
  const auto round2 = step.send;
  step = answer_round_b(*f.loop, round2);
  CHECK(step.finished);
  CHECK(step.send.empty());
  CHECK(f.loop->rounds_done() == 2);
  const auto model = f.loop->model();
  CHECK(f.loop->start().send.empty());
  auto late = f.loop->answered(round2[0].batch.id, report(round2[0], {{{9, 9}, 1, 0}}));
  CHECK(late.send.empty());
  CHECK(late.rounds.empty());
  CHECK_FALSE(late.finished);
  CHECK(f.loop->failed(round2[0].batch.id, failure_code::timeout, "late").rounds.empty());
  CHECK(f.loop->edge_lost(0).send.empty());
  CHECK(f.loop->model() == model);
  CHECK(f.loop->batch(round2[0].batch.id) == nullptr);
}

TEST_CASE("sync_loop stop abandons the round in progress and keeps the last round's model",
          "[protocol]") {
  sync_fixture f(four_over_two(3), {1, 2});
  auto step = answer_round_a(*f.loop, f.loop->start().send);
  REQUIRE(step.rounds.size() == 1);
  const auto round2 = step.send;
  REQUIRE(round2.size() == 2);
  // Round 2 is half answered when the stop comes.
  f.loop->answered(round2[0].batch.id, report(round2[0], {{{9, 9}, 10, 3}}));
  const auto model = f.loop->model();
  CHECK(*model == std::vector<float>{3.5f, 3.0f});
  CHECK(f.loop->stop());
  CHECK(f.loop->stopped());
  CHECK(f.loop->finished());
  CHECK_FALSE(f.loop->running());
  CHECK(f.loop->rounds_done() == 1);
  CHECK(f.loop->version() == 1);
  CHECK(f.loop->model() == model);
  // The abandoned round's answers, failures and losses change nothing; nothing is sent.
  CHECK(f.loop->batch(round2[1].batch.id) == nullptr);
  auto late = f.loop->answered(round2[1].batch.id, report(round2[1], {{{9, 9}, 10, 3}}));
  CHECK(late.send.empty());
  CHECK(late.rounds.empty());
  CHECK_FALSE(late.finished);
  CHECK(f.loop->failed(round2[1].batch.id, failure_code::timeout, "late").rounds.empty());
  CHECK(f.loop->edge_lost(1).send.empty());
  CHECK(f.loop->start().send.empty());
  CHECK(f.loop->model() == model);
  // Its clients count nowhere: the totals are round 1's.
  CHECK(f.loop->totals().clients_trained == 3);
  CHECK(f.loop->totals().failures.total() == 1);
  // A second stop, or a stop after the end, changes nothing.
  CHECK_FALSE(f.loop->stop());
}

TEST_CASE("sync_loop stop after the last round is refused and the run is not marked stopped",
          "[protocol]") {
  sync_fixture f(four_over_two(1), {1, 2});
  auto step = answer_round_a(*f.loop, f.loop->start().send);
  REQUIRE(step.finished);
  CHECK_FALSE(f.loop->stop());
  CHECK_FALSE(f.loop->stopped());
  CHECK(f.loop->rounds_done() == 1);
}

TEST_CASE("sync_loop stop before the first round ends the run with the initial model",
          "[protocol]") {
  sync_fixture f(four_over_two(2), {1, 2});
  CHECK(f.loop->stop());
  CHECK(f.loop->start().send.empty());
  CHECK(f.loop->rounds_done() == 0);
  CHECK(f.loop->version() == 0);
  CHECK(*f.loop->model() == std::vector<float>{1, 2});
}

TEST_CASE("sync_loop ends rounds with every client unreachable at once, without recursion",
          "[protocol]") {
  auto sc = four_over_two(2000);
  sc.faults.on_edge_loss = edge_loss_policy::drop;
  sync_fixture f(sc, {1, 2});
  REQUIRE(f.edges->lose(0));
  REQUIRE(f.edges->lose(1));
  auto step = f.loop->start();
  CHECK(step.send.empty());
  CHECK(step.finished);
  REQUIRE(step.rounds.size() == 2000);
  for (const auto& r : {step.rounds.front(), step.rounds.back()}) {
    CHECK(r.record.clients == 0);
    CHECK(r.record.failures == 4);
    CHECK(r.record.failures_by.of(failure_code::edge_lost) == 4);
    CHECK(r.record.model_version == 0);
    CHECK(r.record.mean_loss == 0.0);
  }
  CHECK(step.rounds.back().record.round == 2000);
  CHECK(f.loop->version() == 0);
  CHECK(*f.loop->model() == std::vector<float>{1, 2});
  CHECK(f.loop->totals().failures.of(failure_code::edge_lost) == 8000);
}

TEST_CASE("sync_loop moves neither model nor version when nothing was folded", "[protocol]") {
  sync_fixture f(four_over_two(2), {1, 2});
  const auto before = f.loop->model();
  auto start = f.loop->start();
  f.loop->failed(start.send[0].batch.id, failure_code::timeout, "no answer");
  auto& t1 = start.send[1];
  auto step = f.loop->answered(t1.batch.id, report(t1, {}, one(failure_code::client_error, 2)));
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.clients == 0);
  CHECK(rec.model_version == 0);
  CHECK(rec.failures == 4);
  CHECK(rec.failures_by.of(failure_code::timeout) == 2);
  CHECK(rec.failures_by.of(failure_code::client_error) == 2);
  CHECK(rec.mean_loss == 0.0);
  CHECK(step.rounds[0].model == before);
  CHECK(f.loop->model() == before);
  CHECK(f.loop->version() == 0);
  // The next round starts from the same model, version 0.
  REQUIRE(step.send.size() == 2);
  CHECK(step.send[0].round == 2);
  CHECK(step.send[0].model_version == 0);
  CHECK(step.send[0].model == before);
  CHECK(f.loop->totals().final_loss == 0.0);
}

TEST_CASE("sync_loop refuses a wrong-round answer as invalid_update and still ends the round",
          "[protocol]") {
  sync_fixture f(four_over_two(), {1, 2});
  auto start = f.loop->start();
  auto& t0 = task_on(start.send, 0);
  auto& t1 = task_on(start.send, 1);
  auto wrong = report(t0, {{{1, 1}, 1, 0}, {{1, 1}, 1, 0}});
  wrong.round = 7;
  f.loop->answered(t0.batch.id, wrong);
  // Client 2 Δ (2, -4) n 10, client 3 Δ (4, 0) n 30: mean ((20 + 120) / 40, -40 / 40) = (3.5, -1).
  auto step = f.loop->answered(t1.batch.id, report(t1, {{{2, -4}, 10, 0}, {{4, 0}, 30, 0}}));
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.rounds[0].record.failures_by.of(failure_code::invalid_update) == 2);
  CHECK(step.rounds[0].record.clients == 2);
  CHECK(*f.loop->model() == std::vector<float>{4.5f, 1.0f});
}

TEST_CASE("sync_loop over-selection keeps the first k clients to finish", "[protocol]") {
  auto sc = four_over_two();
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.selection.clients_per_round = 2;
  sc.selection.over_select = 1.0;  // 2 + ceil(2 · 1) = 4 sampled
  // Client c has 10·(c + 1) samples: it takes 10, 20, 30, 40 simulated seconds.
  sync_fixture f(sc, {1, 2}, "sgd", [](client_id id) { return 10 * (id + 1); });
  auto step = f.loop->start();
  // Clients 0 and 1 finish first; both live at edge 0: one batch.
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].batch.edge == 0);
  CHECK(step.send[0].batch.clients == std::vector<uint32_t>{0, 1});
  step = f.loop->answered(step.send[0].batch.id,
                          report(step.send[0], {{{1, 1}, 10, 0}, {{1, 1}, 20, 0}}));
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.selected == 4);
  CHECK(rec.dropped == 2);
  CHECK(rec.failures == 0);  // dropped by design, not failed
  CHECK(rec.clients == 2);
  CHECK(rec.sim_round_s == 20.0);  // the slowest kept client
  CHECK(rec.sim_time_s == 20.0);
  CHECK(f.loop->sim_time() == 20.0);
}

TEST_CASE("sync_loop round deadline drops the clients that would finish after it", "[protocol]") {
  auto sc = four_over_two(2);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.protocol.round_deadline = 25.0;
  // Client c takes 10·(c + 1) simulated seconds: 30 and 40 are past the deadline.
  sync_fixture f(sc, {1, 2}, "sgd", [](client_id id) { return 10 * (id + 1); });
  auto step = f.loop->start();
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].batch.clients == std::vector<uint32_t>{0, 1});
  step = f.loop->answered(step.send[0].batch.id,
                          report(step.send[0], {{{1, 1}, 10, 0}, {{1, 1}, 20, 0}}));
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.rounds[0].record.selected == 4);
  CHECK(step.rounds[0].record.dropped == 2);
  CHECK(step.rounds[0].record.sim_round_s == 25.0);  // the round lasted until its deadline
  CHECK(step.rounds[0].record.sim_time_s == 25.0);
  REQUIRE(step.send.size() == 1);
  step = f.loop->answered(step.send[0].batch.id,
                          report(step.send[0], {{{1, 1}, 10, 0}, {{1, 1}, 20, 0}}));
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.rounds[0].record.sim_time_s == 50.0);
  CHECK(f.loop->sim_time() == 50.0);
}

TEST_CASE("sync_loop reroutes a batch of an edge lost mid-round behind the survivor's batch",
          "[protocol]") {
  sync_fixture f(four_over_two(), {1, 2});
  auto start = f.loop->start();
  auto& t0 = task_on(start.send, 0);
  auto& t1 = task_on(start.send, 1);
  REQUIRE(f.edges->lose(1));
  // Clients 2, 3 now go to edge 0, which still trains clients 0, 1: the batch waits.
  auto step = f.loop->edge_lost(1);
  CHECK(step.send.empty());
  CHECK(step.rounds.empty());
  CHECK(f.loop->batch(t1.batch.id) == nullptr);
  // The lost edge's answer, on its way when it went down, is ignored.
  CHECK(f.loop->answered(t1.batch.id, report(t1, {{{9, 9}, 1, 0}, {{9, 9}, 1, 0}})).send.empty());
  step = f.loop->answered(t0.batch.id, report(t0, {{{1, -2}, 10, 0.5}, {{3, 2}, 30, 1.5}}));
  REQUIRE(step.send.size() == 1);
  const auto& moved = step.send[0];
  CHECK(moved.batch.edge == 0);
  CHECK(moved.batch.clients == std::vector<uint32_t>{2, 3});
  CHECK(moved.round == 1);
  CHECK(moved.model_version == 0);
  f.loop->edge_rejoined(1);
  step = f.loop->answered(moved.batch.id,
                          report(moved, {{{2.5, 1}, 40, 1.0}}, one(failure_code::client_error)));
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.clients == 3);
  CHECK(rec.rerouted == 2);
  CHECK(rec.edges_lost == 1);
  CHECK(rec.edges_rejoined == 1);
  CHECK(*f.loop->model() == std::vector<float>{3.5f, 3.0f});  // as if nothing had happened
}

TEST_CASE("sync_loop under the drop policy fails a lost edge's clients and ends the round",
          "[protocol]") {
  auto sc = four_over_two();
  sc.faults.on_edge_loss = edge_loss_policy::drop;
  sync_fixture f(sc, {1, 2});
  auto start = f.loop->start();
  auto& t0 = task_on(start.send, 0);
  REQUIRE(f.edges->lose(1));
  CHECK(f.loop->edge_lost(1).rounds.empty());
  // Clients 0, 1: Δ (1, -2) n 10 and Δ (3, 2) n 30: mean (100 / 40, 40 / 40) = (2.5, 1)
  // -> (3.5, 3).
  auto step = f.loop->answered(t0.batch.id, report(t0, {{{1, -2}, 10, 0}, {{3, 2}, 30, 0}}));
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.rounds[0].record.failures_by.of(failure_code::edge_lost) == 2);
  CHECK(step.rounds[0].record.clients == 2);
  CHECK(step.rounds[0].record.rerouted == 0);
  CHECK(*f.loop->model() == std::vector<float>{3.5f, 3.0f});
}

// -- checkpoints ---------------------------------------------------------------------------

TEST_CASE("sync_loop hands a checkpoint after every `every` rounds and after the last",
          "[protocol]") {
  sync_fixture f(four_over_two(3), {1, 2});
  f.loop->checkpoint_every(2);
  auto step = answer_round_a(*f.loop, f.loop->start().send);
  CHECK_FALSE(step.checkpoint);  // round 1
  step = answer_round_b(*f.loop, step.send);
  REQUIRE(step.checkpoint);  // round 2
  CHECK(step.checkpoint->round == 2);
  CHECK_FALSE(step.checkpoint->finished);
  CHECK(decode_sync_state(step.checkpoint->state, "ck").rounds_done == 2);
  step = answer_round_a(*f.loop, step.send);
  REQUIRE(step.checkpoint);  // the end
  CHECK(step.checkpoint->round == 3);
  CHECK(step.checkpoint->finished);
}

TEST_CASE("sync_loop resumed from a checkpoint continues exactly as the uninterrupted loop",
          "[protocol]") {
  // fedavgm: the server momentum must survive; least_recent: so must the sampler's ring.
  auto sc = four_over_two(3);
  sc.selection.clients_per_round = 2;
  sc.selection.strategy = sampling_kind::least_recent;
  sync_fixture a(sc, {1, 2}, "fedavgm");
  a.loop->checkpoint_every(1);
  auto step = answer_each(*a.loop, a.loop->start().send);
  REQUIRE(step.checkpoint);
  const auto state = decode_sync_state(step.checkpoint->state, "ck");
  CHECK(state.rounds_done == 1);
  CHECK(state.model == *a.loop->model());

  sync_fixture b(sc, {1, 2}, "fedavgm");
  b.loop->load_state(state);
  CHECK(b.loop->rounds_done() == 1);
  CHECK(b.loop->version() == 1);
  auto resumed = b.loop->start();
  REQUIRE(resumed.send.size() == step.send.size());
  for (size_t i = 0; i < step.send.size(); ++i) {
    CHECK(resumed.send[i].batch.clients == step.send[i].batch.clients);
    CHECK(resumed.send[i].round == 2);
    CHECK(*resumed.send[i].model == *step.send[i].model);
  }
  auto sa = answer_each(*a.loop, step.send);
  auto sb = answer_each(*b.loop, resumed.send);
  sa = answer_each(*a.loop, sa.send);
  sb = answer_each(*b.loop, sb.send);
  CHECK(sa.finished);
  CHECK(sb.finished);
  CHECK(*a.loop->model() == *b.loop->model());
  CHECK(a.loop->totals().clients_trained == b.loop->totals().clients_trained);
  CHECK(b.loop->totals().clients_trained == 6);
}

TEST_CASE("sync_loop refuses a checkpoint of another model size", "[protocol]") {
  sync_fixture a(four_over_two(2), {1, 2});
  auto state = a.loop->save_state();
  sync_fixture b(four_over_two(2), {1, 2, 3});
  CHECK_THROWS_WITH(b.loop->load_state(state), "checkpoint: a model of 2 values, this run's has 3");
}

// -- scripted events -----------------------------------------------------------------------

namespace {

scenario_event counted(event_trigger trigger, uint32_t n, event_kind kind) {
  scenario_event e;
  e.trigger = trigger;
  e.count = n;
  e.kind = kind;
  return e;
}

scenario_event on_round(uint32_t round, event_kind kind) {
  return counted(event_trigger::round, round, kind);
}

scenario_event with_ids(scenario_event e, uint64_t from, uint64_t to) {
  e.clients.from = from;
  e.clients.to = to;
  return e;
}

// Answers every batch of `send` with all its clients failed (client_error): the round ends
// without updates. Returns the last step.
sync_step fail_all(sync_loop& loop, const std::vector<sync_task>& send) {
  sync_step last;
  for (const auto& t : send) {
    edge_report r;
    r.round = t.round;
    r.aggregate = aggregate_of(2, {});
    r.failed = one(failure_code::client_error, static_cast<uint32_t>(t.batch.clients.size()));
    last = loop.answered(t.batch.id, std::move(r));
  }
  return last;
}

// Every client leaves at the start of round `round` and comes back at simulated time 100.
std::vector<scenario_event> everyone_away(uint32_t round) {
  auto leave = on_round(round, event_kind::clients_leave);
  leave.clients.fraction = 1;
  scenario_event join;
  join.kind = event_kind::clients_join;
  join.trigger = event_trigger::at;
  join.at = 100;
  join.clients.fraction = 1;
  return {leave, join};
}

std::vector<uint32_t> clients_sent(const std::vector<sync_task>& send) {
  std::vector<uint32_t> out;
  for (const auto& t : send) out.insert(out.end(), t.batch.clients.begin(), t.batch.clients.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("sync_loop: edge_down at a round reroutes the edge's clients, edge_up brings it back",
          "[protocol][events]") {
  auto sc = four_over_two(3);
  auto down = on_round(2, event_kind::edge_down);
  down.edge = 1;
  auto up = on_round(3, event_kind::edge_up);
  up.edge = 1;
  sc.events = {down, up};
  sync_fixture f(sc, {0, 0});
  auto s1 = f.loop->start();
  REQUIRE(s1.send.size() == 2);
  CHECK(s1.send[0].batch.edge == 0);
  CHECK(s1.send[1].batch.edge == 1);
  // Round 2 starts with edge 1 down: clients 2 and 3 go to edge 0 (the only survivor).
  auto s2 = answer_round_b(*f.loop, s1.send);
  REQUIRE(s2.rounds.size() == 1);
  CHECK(s2.rounds[0].record.events.empty());
  CHECK_FALSE(f.edges->alive(1));
  REQUIRE(s2.send.size() == 1);
  CHECK(s2.send[0].batch.edge == 0);
  CHECK(s2.send[0].batch.clients == std::vector<uint32_t>{0, 1, 2, 3});
  auto s3 = fail_all(*f.loop, s2.send);
  REQUIRE(s3.rounds.size() == 1);
  const auto& r2 = s3.rounds[0].record;
  CHECK(r2.edges_lost == 1);
  CHECK(r2.rerouted == 2);
  REQUIRE(r2.events.size() == 1);
  CHECK(r2.events[0].kind == "edge_down");
  CHECK(r2.events[0].target == "edge 1");
  CHECK(r2.events[0].trigger == "round 2");
  CHECK(r2.events[0].changed == 1);
  // Round 3: edge 1 is back.
  CHECK(f.edges->alive(1));
  REQUIRE(s3.send.size() == 2);
  auto end = fail_all(*f.loop, s3.send);
  REQUIRE(end.rounds.size() == 1);
  CHECK(end.finished);
  const auto& r3 = end.rounds[0].record;
  CHECK(r3.edges_rejoined == 1);
  CHECK(r3.rerouted == 0);
  REQUIRE(r3.events.size() == 1);
  CHECK(r3.events[0].kind == "edge_up");
}

TEST_CASE("sync_loop: edge_down under the drop policy fails the edge's clients as edge_lost",
          "[protocol][events]") {
  auto sc = four_over_two(1);
  sc.faults.on_edge_loss = edge_loss_policy::drop;
  auto down = on_round(1, event_kind::edge_down);
  down.edge = 0;
  sc.events = {down};
  sync_fixture f(sc, {0, 0});
  auto s = f.loop->start();
  REQUIRE(s.send.size() == 1);
  CHECK(s.send[0].batch.clients == std::vector<uint32_t>{2, 3});
  auto end = fail_all(*f.loop, s.send);
  REQUIRE(end.rounds.size() == 1);
  const auto& rec = end.rounds[0].record;
  CHECK(rec.failures_by.of(failure_code::edge_lost) == 2);
  CHECK(rec.edges_lost == 1);
}

TEST_CASE("sync_loop: clients that left are not sampled until they join again",
          "[protocol][events]") {
  // 10 clients, 5 per round; ids [0, 5) leave at round 2 and come back at round 4.
  auto sc = testing::loop_scenario(10, 2);
  sc.selection.clients_per_round = 5;
  sc.protocol.rounds = 4;
  sc.events = {with_ids(on_round(2, event_kind::clients_leave), 0, 5),
               with_ids(on_round(4, event_kind::clients_join), 0, 5)};
  sync_fixture f(sc, {0, 0});
  auto s = f.loop->start();
  std::vector<std::vector<uint32_t>> picked{clients_sent(s.send)};
  std::vector<round_record> records;
  while (!s.finished) {
    s = fail_all(*f.loop, s.send);
    for (auto& r : s.rounds) records.push_back(r.record);
    if (!s.send.empty()) picked.push_back(clients_sent(s.send));
  }
  REQUIRE(picked.size() == 4);
  // Only 5 clients are available in rounds 2 and 3: exactly those.
  CHECK(picked[1] == std::vector<uint32_t>{5, 6, 7, 8, 9});
  CHECK(picked[2] == std::vector<uint32_t>{5, 6, 7, 8, 9});
  REQUIRE(records.size() == 4);
  REQUIRE(records[1].events.size() == 1);
  CHECK(records[1].events[0].kind == "clients_leave");
  CHECK(records[1].events[0].target == "ids [0, 5)");
  CHECK(records[1].events[0].changed == 5);
  CHECK(records[2].events.empty());
  REQUIRE(records[3].events.size() == 1);
  CHECK(records[3].events[0].changed == 5);
}

TEST_CASE("sync_loop: with fewer available clients than wanted, the round takes them all",
          "[protocol][events]") {
  auto sc = testing::loop_scenario(10, 2);
  sc.selection.clients_per_round = 5;
  sc.protocol.rounds = 1;
  sc.events = {with_ids(on_round(1, event_kind::clients_leave), 0, 8)};
  sync_fixture f(sc, {0, 0});
  auto s = f.loop->start();
  CHECK(clients_sent(s.send) == std::vector<uint32_t>{8, 9});
  auto end = fail_all(*f.loop, s.send);
  REQUIRE(end.rounds.size() == 1);
  CHECK(end.rounds[0].record.selected == 2);
}

TEST_CASE("sync_loop: a region that is down is not sampled until it is up again",
          "[protocol][events]") {
  // 10 clients in 2 regions (client c in region c % 2), 5 per round.
  auto sc = testing::loop_scenario(10, 2);
  sc.population.regions = 2;
  sc.selection.clients_per_round = 5;
  sc.protocol.rounds = 3;
  auto down = on_round(2, event_kind::region_down);
  down.region = 1;
  auto up = on_round(3, event_kind::region_up);
  up.region = 1;
  sc.events = {down, up};
  auto registry = std::make_shared<client_registry>(
      10, sc.seed, 2, [](client_id) { return 10u; },
      [](client_id id) {
        return client_meta{1.0f, static_cast<uint16_t>(id % 2)};
      });
  auto edges = testing::make_edge_set(sc);
  sync_loop loop(sc,
                 {registry, make_sampler(sc.selection.strategy, *registry, sc.seed),
                  testing::fresh_optimizer("sgd", 2)},
                 *edges, {0, 0}, 1);
  auto s = loop.start();
  s = fail_all(loop, s.send);
  CHECK(clients_sent(s.send) == std::vector<uint32_t>{0, 2, 4, 6, 8});
  REQUIRE(s.rounds.size() == 1);
  s = fail_all(loop, s.send);
  REQUIRE(s.rounds.size() == 1);
  REQUIRE(s.rounds[0].record.events.size() == 1);
  CHECK(s.rounds[0].record.events[0].target == "region 1");
  CHECK(s.rounds[0].record.events[0].changed == 5);
  // Round 3: region 1 is back, 5 of all 10 are drawn again.
  CHECK(clients_sent(s.send).size() == 5);
}

TEST_CASE("sync_loop: compute and bandwidth events scale the simulated round time from then on",
          "[protocol][events]") {
  // Every client: 10 samples, 1 s per sample at power 1 -> 10 s of compute; the link carries
  // the 2-value model (8 bytes, 64 bits each way) at 64e-6 Mbit/s: 2 s of transfer.
  auto sc = four_over_two(4);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.devices.bandwidth_mbps = 64e-6;
  scenario_event compute;
  compute.kind = event_kind::compute;
  compute.trigger = event_trigger::at;
  compute.at = 11;  // during round 1 (0 to 12 s): fires at the start of round 2
  compute.clients.fraction = 1;
  compute.factor = 3;
  auto bandwidth = on_round(3, event_kind::bandwidth);
  bandwidth.clients.fraction = 1;
  bandwidth.factor = 4;
  auto restore = on_round(4, event_kind::compute);
  restore.clients.fraction = 1;
  restore.factor = 1;
  sc.events = {compute, bandwidth, restore};
  sync_fixture f(sc, {0, 0});
  auto s = f.loop->start();
  std::vector<round_record> records;
  while (!s.finished) {
    s = fail_all(*f.loop, s.send);
    for (auto& r : s.rounds) records.push_back(r.record);
  }
  REQUIRE(records.size() == 4);
  CHECK(records[0].sim_round_s == Approx(12.0).epsilon(1e-6));  // 10 + 2
  CHECK(records[1].sim_round_s == Approx(32.0).epsilon(1e-6));  // 3 x 10 + 2
  CHECK(records[2].sim_round_s == Approx(38.0).epsilon(1e-6));  // 3 x 10 + 4 x 2
  CHECK(records[3].sim_round_s == Approx(18.0).epsilon(1e-6));  // 10 + 4 x 2
  REQUIRE(records[1].events.size() == 1);
  CHECK(records[1].events[0].kind == "compute");
  CHECK(records[1].events[0].target == "fraction 1 x3");
  CHECK(records[1].events[0].trigger == "at 11");
  CHECK(records[1].events[0].sim_time_s == Approx(12.0).epsilon(1e-6));
  CHECK(records[1].events[0].changed == -1);
}

TEST_CASE("sync_loop: with no client left, the simulated clock jumps to the next at event",
          "[protocol][events]") {
  auto sc = four_over_two(2);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.events = everyone_away(2);
  sync_fixture f(sc, {0, 0});
  auto s = fail_all(*f.loop, f.loop->start().send);
  REQUIRE(s.rounds.size() == 1);
  CHECK(s.rounds[0].record.sim_time_s == 10.0);
  // Round 2: everyone leaves at t 10; the clock jumps to t 100, where everyone is back.
  CHECK(clients_sent(s.send) == std::vector<uint32_t>{0, 1, 2, 3});
  auto end = fail_all(*f.loop, s.send);
  REQUIRE(end.rounds.size() == 1);
  const auto& rec = end.rounds[0].record;
  CHECK(rec.selected == 4);
  CHECK(rec.sim_round_s == 10.0);
  CHECK(rec.sim_time_s == 110.0);
  REQUIRE(rec.events.size() == 2);
  CHECK(rec.events[0].kind == "clients_leave");
  CHECK(rec.events[0].sim_time_s == 10.0);
  CHECK(rec.events[1].kind == "clients_join");
  CHECK(rec.events[1].sim_time_s == 100.0);
}

TEST_CASE("sync_loop's first checkpoint is the fresh run's start, and resumes as a fresh start",
          "[protocol]") {
  sync_fixture a(four_over_two(2), {1, 2});
  a.loop->checkpoint_every(5);
  auto first = a.loop->start();
  REQUIRE(first.checkpoint);
  CHECK(first.checkpoint->round == 0);
  CHECK_FALSE(first.checkpoint->finished);
  const auto state = decode_sync_state(first.checkpoint->state, "ck");
  CHECK(state.rounds_done == 0);
  CHECK(state.model == std::vector<float>{1, 2});
  // Resumed from it: the same first round goes out.
  sync_fixture b(four_over_two(2), {1, 2});
  b.loop->checkpoint_every(5);
  b.loop->load_state(state);
  auto again = b.loop->start();
  REQUIRE(again.send.size() == first.send.size());
  for (size_t i = 0; i < first.send.size(); ++i)
    CHECK(again.send[i].batch.clients == first.send[i].batch.clients);
  // Without periodic checkpoints (every 0: the end only) there is none at the start.
  sync_fixture c(four_over_two(2), {1, 2});
  c.loop->checkpoint_every(0);
  CHECK_FALSE(c.loop->start().checkpoint);
}

namespace {

// 4 rounds of 3 of 4 clients (least recent first, fedavgm) on the simulated clock; round 3
// starts with every client gone and the clock jumping to t 100, where they are back.
scenario stoppable() {
  auto sc = four_over_two(4);
  sc.selection.clients_per_round = 3;
  sc.selection.strategy = sampling_kind::least_recent;
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.events = everyone_away(3);
  return sc;
}

}  // namespace

TEST_CASE("sync_loop stopped mid-round leaves a checkpoint that redoes the round, as uninterrupted",
          "[protocol][events]") {
  const auto sc = stoppable();
  sync_fixture a(sc, {1, 2}, "fedavgm");
  std::vector<round_record> full;
  for (auto s = a.loop->start(); !s.finished;) {
    s = answer_each(*a.loop, s.send);
    for (auto& r : s.rounds) full.push_back(r.record);
  }
  REQUIRE(full.size() == 4);
  REQUIRE(full[2].events.size() == 2);

  sync_fixture b(sc, {1, 2}, "fedavgm");
  b.loop->checkpoint_every(10);
  auto s = answer_each(*b.loop, b.loop->start().send);
  s = answer_each(*b.loop, s.send);
  REQUIRE(b.loop->rounds_done() == 2);
  const auto round3 = s.send;
  REQUIRE(round3.size() == 2);
  // Round 3 half answered (its events fired, its clients picked) when the stop comes.
  b.loop->answered(round3[0].batch.id, report(round3[0], {{{9, 9}, 10, 3}}));
  REQUIRE(b.loop->stop());
  auto ck = b.loop->take_stop_checkpoint();
  REQUIRE(ck);
  CHECK_FALSE(b.loop->take_stop_checkpoint());
  CHECK(ck->round == 2);
  CHECK_FALSE(ck->finished);
  const auto state = decode_sync_state(ck->state, "ck");
  CHECK(state.rounds_done == 2);
  CHECK(state.model == *b.loop->model());
  CHECK(state.pending);
  CHECK(state.pending_ids == clients_sent(round3));
  CHECK(state.fired_events.empty());  // round 3's fire again
  CHECK(state.sim_now == full[1].sim_time_s);

  sync_fixture c(sc, {1, 2}, "fedavgm");
  c.loop->checkpoint_every(10);
  c.loop->load_state(state);
  auto r = c.loop->start();
  CHECK_FALSE(r.checkpoint);
  CHECK(clients_sent(r.send) == clients_sent(round3));
  std::vector<round_record> rest;
  while (!r.finished) {
    r = answer_each(*c.loop, r.send);
    for (auto& x : r.rounds) rest.push_back(x.record);
  }
  REQUIRE(rest.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(rest[i].round == full[i + 2].round);
    CHECK(rest[i].selected == full[i + 2].selected);
    CHECK(rest[i].clients == full[i + 2].clients);
    CHECK(rest[i].sim_time_s == full[i + 2].sim_time_s);
    CHECK(rest[i].events.size() == full[i + 2].events.size());
  }
  CHECK(*c.loop->model() == *a.loop->model());
  CHECK(c.loop->totals().clients_trained == a.loop->totals().clients_trained);
}

TEST_CASE("sync_loop leaves no stop checkpoint without periodic checkpoints or before a round",
          "[protocol]") {
  sync_fixture a(four_over_two(2), {1, 2});
  a.loop->checkpoint_every(0);
  a.loop->start();
  REQUIRE(a.loop->stop());
  CHECK_FALSE(a.loop->take_stop_checkpoint());
  sync_fixture b(four_over_two(2), {1, 2});
  b.loop->checkpoint_every(1);
  REQUIRE(b.loop->stop());  // before start(): nothing in progress
  CHECK_FALSE(b.loop->take_stop_checkpoint());
}

TEST_CASE("sync_loop refuses a stop checkpoint whose round in progress does not fit the run",
          "[protocol]") {
  sync_fixture a(four_over_two(3), {1, 2});
  a.loop->checkpoint_every(1);
  a.loop->start();
  REQUIRE(a.loop->stop());
  const auto good = decode_sync_state(a.loop->take_stop_checkpoint()->state, "ck");
  REQUIRE(good.pending_ids == std::vector<uint32_t>{0, 1, 2, 3});
  auto check_refused = [](sync_loop_state s, const std::string& why) {
    sync_fixture f(four_over_two(3), {1, 2});
    CHECK_THROWS_WITH(f.loop->load_state(s), Catch::Contains(why));
  };
  auto unordered = good;
  std::swap(unordered.pending_ids[0], unordered.pending_ids[1]);
  check_refused(unordered, "not ascending ids of this population");
  auto outside = good;
  outside.pending_ids.back() = 4;
  check_refused(outside, "not ascending ids of this population");
  auto too_many = good;
  too_many.pending_ids.push_back(5);
  check_refused(too_many, "5 clients in the round in progress, at most 4");
  auto after_end = good;
  after_end.rounds_done = 3;
  check_refused(after_end, "a round in progress after the last round");
}

TEST_CASE("sync_loop sends the robust settings and moves the adaptive bound by the edges' counts",
          "[protocol][robust]") {
  auto sc = four_over_two(3);
  sc.robust.norm_bound.mode = norm_bound_mode::clip;
  sc.robust.norm_bound.bound = 2.0;
  sc.robust.norm_bound.target_quantile = 0.5;
  sc.robust.norm_bound.lr = 0.5;
  sc.robust.rule = robust_rule_kind::trimmed_mean;
  sc.robust.trim = 0.25;
  sync_fixture f(sc, {0, 0});
  auto step = f.loop->start();
  REQUIRE(step.send.size() == 2);
  for (const auto& t : step.send) {
    CHECK(t.robust.norm_mode == norm_bound_mode::clip);
    CHECK(t.robust.norm_bound == 2.0);
    CHECK(t.robust.rule == robust_rule_kind::trimmed_mean);
    CHECK(t.robust.trim == 0.25);
  }
  // Round 1: 3 of 4 within the bound, 1 clipped: b = 0.75, C = 2 exp(-0.5 × 0.25).
  auto& t0 = task_on(step.send, 0);
  auto& t1 = task_on(step.send, 1);
  auto r0 = report(t0, {{{1, 0}, 10, 1}, {{1, 0}, 10, 1}});
  r0.norm = norm_bound_counts{2, 0, 0};
  auto r1 = report(t1, {{{1, 0}, 10, 1}, {{1, 0}, 10, 1}});
  r1.norm = norm_bound_counts{1, 1, 0};
  f.loop->answered(t0.batch.id, r0);
  step = f.loop->answered(t1.batch.id, r1);
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.norm_bound == 2.0);
  CHECK(rec.norm_clipped == 1);
  CHECK(rec.norm_rejected == 0);
  const double c2 = 2.0 * std::exp(-0.5 * 0.25);
  CHECK(f.loop->norm_bound() == c2);
  for (const auto& t : step.send) CHECK(t.robust.norm_bound == c2);
  CHECK(f.loop->save_state().clip_bound == c2);
  CHECK(f.loop->totals().norm_clipped == 1);
  // Round 2: 1 within, 1 rejected (an invalid_update), edge 1 none within of 2 clipped:
  // b = 1 / 4, C grows by exp(0.5 × 0.25) back to 2.
  auto& u0 = task_on(step.send, 0);
  auto& u1 = task_on(step.send, 1);
  auto q0 = report(u0, {{{1, 0}, 10, 1}}, one(failure_code::invalid_update));
  q0.norm = norm_bound_counts{1, 0, 1};
  auto q1 = report(u1, {{{1, 0}, 10, 1}, {{1, 0}, 10, 1}});
  q1.norm = norm_bound_counts{0, 2, 0};
  f.loop->answered(u0.batch.id, q0);
  step = f.loop->answered(u1.batch.id, q1);
  REQUIRE(step.rounds.size() == 1);
  CHECK(step.rounds[0].record.norm_bound == c2);
  CHECK(step.rounds[0].record.norm_rejected == 1);
  CHECK(f.loop->norm_bound() == c2 * std::exp(0.5 * 0.25));
  CHECK(f.loop->totals().norm_clipped == 3);
  CHECK(f.loop->totals().norm_rejected == 1);
}

TEST_CASE("sync_loop refuses an edge's norm counts that do not fit its batch",
          "[protocol][robust]") {
  auto sc = four_over_two();
  sc.robust.norm_bound.mode = norm_bound_mode::reject;
  sync_fixture f(sc, {0, 0});
  auto step = f.loop->start();
  auto& t0 = task_on(step.send, 0);
  auto& t1 = task_on(step.send, 1);
  auto r0 = report(t0, {{{1, 0}, 10, 1}, {{1, 0}, 10, 1}});
  r0.norm = norm_bound_counts{2, 1, 0};  // three of two updates
  auto r1 = report(t1, {{{1, 0}, 10, 1}}, one(failure_code::timeout));
  r1.norm = norm_bound_counts{1, 0, 1};  // a rejection that is no invalid_update
  f.loop->answered(t0.batch.id, r0);
  step = f.loop->answered(t1.batch.id, r1);
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.clients == 0);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 4);
  CHECK(rec.norm_rejected == 0);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{
            "edge 0: norm bound counts that do not fit its updates and failures",
            "edge 1: norm bound counts that do not fit its updates and failures"});
}

// -- client-level differential privacy (privacy.mode dp_fedavg) ----------------------------

namespace {

scenario private_four(uint32_t rounds, double clip, double z) {
  auto sc = four_over_two(rounds);
  sc.privacy.mode = privacy_mode::dp_fedavg;
  sc.privacy.clip = clip;
  sc.privacy.noise_multiplier = z;
  sc.privacy.delta = 0.1;
  return sc;
}

// Every batch answered with each client's clipped Δ = (c + 1, 1)·min(1, C/‖·‖), weight 1, as
// an edge clipping to C would; the last step.
sync_step answer_clipped(sync_loop& loop, const std::vector<sync_task>& send) {
  sync_step last;
  for (const auto& t : send) {
    std::vector<term> terms;
    uint32_t unclipped = 0;
    for (auto c : t.batch.clients) {
      const double x = c + 1.0, norm = std::sqrt(x * x + 1);
      const double s = norm <= t.clip ? 1.0 : t.clip / norm;
      unclipped += norm <= t.clip ? 1 : 0;
      terms.push_back({{static_cast<float>(x * s), static_cast<float>(s)}, 1.0, 1.0});
    }
    auto rep = report(t, terms);
    rep.unclipped = unclipped;
    last = loop.answered(t.batch.id, rep);
  }
  return last;
}

}  // namespace

TEST_CASE("sync_loop with dp_fedavg sends the clip and releases the sum over clients_per_round",
          "[protocol][privacy]") {
  sync_fixture f(private_four(1, 4, 0), {1, 2});
  REQUIRE(f.loop->privacy());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 2);
  for (const auto& t : start.send) CHECK(t.clip == 4);
  // Edge 0: Δ (1, −2), (3, 2); edge 1: (2.5, 1) and a client_error; all within C = 4.
  auto& t0 = task_on(start.send, 0);
  auto& t1 = task_on(start.send, 1);
  auto r0 = report(t0, {{{1, -2}, 1, 0.5}, {{3, 2}, 1, 1.5}});
  r0.unclipped = 2;
  auto r1 = report(t1, {{{2.5, 1}, 1, 1.0}}, one(failure_code::client_error));
  r1.unclipped = 1;
  f.loop->answered(t0.batch.id, r0);
  auto step = f.loop->answered(t1.batch.id, r1);
  REQUIRE(step.rounds.size() == 1);
  // Σ Δ = (6.5, 1) over k = 4 (not the 3 updates): (1.625, 0.25); model (1, 2) + that.
  CHECK(*step.rounds[0].model == std::vector<float>{2.625f, 2.25f});
  const auto& rec = step.rounds[0].record;
  CHECK(rec.clients == 3);
  CHECK(rec.mean_loss == 1.0);  // (0.5 + 1.5 + 1) / 3
  CHECK(rec.private_round);
  CHECK(rec.dp_clip == 4);
  CHECK(rec.dp_noise_std == 0);
  CHECK(rec.dp_unclipped == 3);
  CHECK(rec.dp_next_clip == 4);
  CHECK(rec.epsilon == std::numeric_limits<double>::infinity());
  CHECK(rec.delta == 0.1);
}

TEST_CASE("sync_loop with dp_fedavg steps a round without updates by its noise alone",
          "[protocol][privacy]") {
  // Whether a round had updates must not show: the model moves by noise / k all the same.
  sync_fixture f(private_four(1, 2, 1), {1, 2});
  auto start = f.loop->start();
  f.loop->failed(start.send[0].batch.id, failure_code::timeout, "no answer");
  auto& t1 = start.send[1];
  auto step = f.loop->answered(t1.batch.id, report(t1, {}, one(failure_code::client_error, 2)));
  REQUIRE(step.rounds.size() == 1);
  rng g(stream_key(7, rng_tag::dp_noise, 1));  // seed 7, round 1; std z·C = 2
  const float m0 = static_cast<float>(2 * g.normal() / 4);
  const float m1 = static_cast<float>(2 * g.normal() / 4);
  CHECK(*step.rounds[0].model ==
        std::vector<float>{static_cast<float>(1.0 + m0), static_cast<float>(2.0 + m1)});
  CHECK(step.rounds[0].record.model_version == 1);
  CHECK(step.rounds[0].record.clients == 0);
  // q = 4 sampled / 4 available = 1: ε of one plain Gaussian step at δ = 0.1.
  const auto rdp = sgm_rdp(1, 1, 1, default_rdp_orders());
  CHECK(step.rounds[0].record.epsilon == epsilon_for_delta(default_rdp_orders(), rdp, 0.1).epsilon);
}

TEST_CASE("sync_loop with dp_fedavg refuses an answer of unclipped updates",
          "[protocol][privacy]") {
  sync_fixture f(private_four(1, 1, 0), {0, 0});
  auto start = f.loop->start();
  auto& t0 = task_on(start.send, 0);
  auto& t1 = task_on(start.send, 1);
  f.loop->answered(t0.batch.id, report(t0, {{{3, 4}, 1, 0}, {{0, 0}, 1, 0}}));  // norm 5 > 2·1
  auto step = f.loop->answered(t1.batch.id, report(t1, {{{0.5, 0}, 1, 0}, {{0, 0.5}, 1, 0}}));
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.clients == 2);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 2);
  CHECK(*step.rounds[0].model == std::vector<float>{0.125f, 0.125f});  // (0.5, 0.5) / 4
}

TEST_CASE("sync_loop with dp_fedavg and adaptive clipping resumes from a checkpoint exactly",
          "[protocol][privacy]") {
  // Noise, a moving clip bound and the accountant must all survive the checkpoint.
  auto sc = private_four(3, 2.5, 1);
  sc.selection.clients_per_round = 2;  // q = 1/2
  sc.privacy.clipping = clipping_kind::adaptive;
  sc.privacy.quantile_noise = 1;
  sc.privacy.clip_lr = 0.5;
  sync_fixture a(sc, {1, 2});
  a.loop->checkpoint_every(1);
  auto step = answer_clipped(*a.loop, a.loop->start().send);
  REQUIRE(step.checkpoint);
  const auto state = decode_sync_state(step.checkpoint->state, "ck");
  CHECK_FALSE(state.privacy.empty());
  const double clip2 = a.loop->privacy()->clip();
  CHECK(clip2 != 2.5);  // moved
  CHECK(step.rounds[0].record.dp_next_clip == clip2);

  sync_fixture b(sc, {1, 2});
  b.loop->load_state(state);
  CHECK(b.loop->privacy()->clip() == clip2);
  auto resumed = b.loop->start();
  REQUIRE(resumed.send.size() == step.send.size());
  for (size_t i = 0; i < step.send.size(); ++i) CHECK(resumed.send[i].clip == step.send[i].clip);
  auto sa = answer_clipped(*a.loop, step.send);
  auto sb = answer_clipped(*b.loop, resumed.send);
  sa = answer_clipped(*a.loop, sa.send);
  sb = answer_clipped(*b.loop, sb.send);
  CHECK(sa.finished);
  CHECK(sb.finished);
  CHECK(*a.loop->model() == *b.loop->model());
  CHECK(a.loop->privacy()->clip() == b.loop->privacy()->clip());
  CHECK(a.loop->privacy()->accountant().rdp() == b.loop->privacy()->accountant().rdp());
  CHECK(sa.rounds[0].record.epsilon == sb.rounds[0].record.epsilon);
  // Three steps of rate 1/2 at z = 1.
  const auto rdp = sgm_rdp(0.5, 1, 3, default_rdp_orders());
  CHECK(b.loop->privacy()->accountant().rdp() == rdp);
}

TEST_CASE("sync_loop refuses a checkpoint whose privacy state does not fit the run",
          "[protocol][privacy]") {
  sync_fixture plain(four_over_two(2), {1, 2});
  const auto plain_state = plain.loop->save_state();
  sync_fixture priv(private_four(2, 1, 1), {1, 2});
  CHECK_THROWS_WITH(priv.loop->load_state(plain_state),
                    "checkpoint: no privacy state, this run has privacy.mode dp_fedavg");
  CHECK_THROWS_WITH(plain.loop->load_state(priv.loop->save_state()),
                    "checkpoint: a privacy state, this run has privacy.mode off");
}

TEST_CASE("sync_loop resumes with its adaptive norm bound and refuses one it does not have",
          "[protocol][robust]") {
  auto sc = four_over_two(3);
  sc.robust.norm_bound.mode = norm_bound_mode::reject;
  sc.robust.norm_bound.bound = 2.0;
  sc.robust.norm_bound.target_quantile = 0.5;
  sync_fixture f(sc, {0, 0});
  auto step = f.loop->start();
  auto& t0 = task_on(step.send, 0);
  auto& t1 = task_on(step.send, 1);
  auto r0 = report(t0, {{{1, 0}, 10, 1}, {{1, 0}, 10, 1}});
  r0.norm = norm_bound_counts{2, 0, 0};
  auto r1 = report(t1, {{{1, 0}, 10, 1}, {{1, 0}, 10, 1}});
  r1.norm = norm_bound_counts{2, 0, 0};
  f.loop->answered(t0.batch.id, r0);
  f.loop->answered(t1.batch.id, r1);
  const double c2 = 2.0 * std::exp(-0.2 * 0.5);  // all within: b = 1
  REQUIRE(f.loop->norm_bound() == c2);
  const auto saved = decode_sync_state(encode(f.loop->save_state()), "ck");
  sync_fixture g(sc, {0, 0});
  g.loop->load_state(saved);
  CHECK(g.loop->norm_bound() == c2);
  for (const auto& t : g.loop->start().send) CHECK(t.robust.norm_bound == c2);
  auto fixed = sc;
  fixed.robust.norm_bound.target_quantile = 0;
  sync_fixture h(fixed, {0, 0});
  CHECK_THROWS_WITH(h.loop->load_state(saved),
                    "checkpoint: an adaptive clip bound, this run has none");
}

namespace {

// A random sampler that records what the loop reports to it.
struct observed {
  client_id id;
  client_outcome outcome;
};
class recording_sampler final : public sampler {
 public:
  recording_sampler(client_registry& reg, std::vector<observed>& log)
      : inner_(make_sampler(sampling_kind::random, reg, 7)), log_(log) {}
  std::vector<client_id> sample(uint32_t k, int32_t round, const exclude_fn& ex) override {
    return inner_->sample(k, round, ex);
  }
  void observe(client_id id, const client_outcome& o) override { log_.push_back({id, o}); }
  size_t bytes() const override { return 0; }

 private:
  std::unique_ptr<sampler> inner_;
  std::vector<observed>& log_;
};

// `terms` of the batch's clients in order, with their client reports (||Δ||² each).
edge_report report_with_clients(const sync_task& t, const std::vector<term>& terms) {
  edge_report r = report(t, terms);
  std::vector<client_report> reports;
  for (size_t i = 0; i < terms.size(); ++i) {
    double sq = 0;
    for (float v : terms[i].x) sq += static_cast<double>(v) * v;
    reports.push_back(
        {t.batch.clients[i], static_cast<uint32_t>(terms[i].weight), terms[i].loss, sq});
  }
  r.reports = encode_client_reports(reports);
  return r;
}

}  // namespace

TEST_CASE("sync_loop reports each client's loss, samples and duration to the sampler by id",
          "[protocol][oort]") {
  auto sc = four_over_two();
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  auto registry = testing::make_registry(sc, [](client_id id) { return 10u + id; });
  auto edges = testing::make_edge_set(sc);
  std::vector<observed> log;
  sync_loop::parts p{registry, std::make_unique<recording_sampler>(*registry, log),
                     testing::fresh_optimizer("sgd", 2)};
  sync_loop loop(sc, std::move(p), *edges, {0, 0}, 1);
  auto st = loop.start();
  REQUIRE(st.send.size() == 2);
  // Edge 1 answers first; the sampler still hears the clients in id order. Client 3 failed.
  auto& t0 = task_on(st.send, 0);
  auto& t1 = task_on(st.send, 1);
  auto r1 = report_with_clients(t1, {{{2.5, 1}, 12, 1.0}});
  r1.failed = one(failure_code::client_error);
  loop.answered(t1.batch.id, std::move(r1));
  auto done =
      loop.answered(t0.batch.id, report_with_clients(t0, {{{1, -2}, 10, 0.5}, {{3, 2}, 11, 1.5}}));
  REQUIRE(done.rounds.size() == 1);
  REQUIRE(log.size() == 3);
  CHECK(log[0].id == 0);
  CHECK(log[0].outcome.loss == 0.5);
  CHECK(log[0].outcome.samples == 10);
  CHECK(log[0].outcome.duration == Approx(10.0).epsilon(1e-3));  // 10 samples x 1 s
  CHECK(log[1].id == 1);
  CHECK(log[1].outcome.loss == 1.5);
  CHECK(log[1].outcome.duration == Approx(11.0).epsilon(1e-3));
  CHECK(log[2].id == 2);
  CHECK(log[2].outcome.samples == 12);
  CHECK(log[2].outcome.duration == Approx(12.0).epsilon(1e-3));
  // Not adaptive: no size in the record.
  CHECK(done.rounds[0].record.sample_size == 0);
}

TEST_CASE("sync_loop adapts the round size from the aggregate's relative variance",
          "[protocol][adaptive_size]") {
  auto sc = four_over_two(3);
  auto& a = sc.selection.adaptive_size;
  a.enabled = true;
  a.min = 2;
  a.max = 4;
  a.target_rel_var = 0.4;
  a.grow = 1.5;
  a.shrink = 0.8;
  sync_fixture f(sc, {0, 0});
  auto st = f.loop->start();
  // Round b: Δ (1, 0.5) n 10 twice, (0, 1) n 5, (2, 0) n 5; mean (1, 0.5), ||mean||² = 1.25;
  // S / W = (10 x 1.25 x 2 + 5 x 1 + 5 x 4) / 30 = 50 / 30; var = 50 / 30 - 1.25 = 5 / 12;
  // relative variance 5 / 12 / (4 x 1.25) = 1 / 12 < 0.4 / 4: k = floor(4 x 0.8) = 3.
  auto& t0 = task_on(st.send, 0);
  auto& t1 = task_on(st.send, 1);
  f.loop->answered(t0.batch.id, report_with_clients(t0, {{{1, 0.5}, 10, 2}, {{1, 0.5}, 10, 2}}));
  auto done =
      f.loop->answered(t1.batch.id, report_with_clients(t1, {{{0, 1}, 5, 2}, {{2, 0}, 5, 2}}));
  REQUIRE(done.rounds.size() == 1);
  const auto& rec = done.rounds[0].record;
  CHECK(rec.sample_size == 4);
  CHECK(rec.rel_var == Approx(1.0 / 12.0));
  CHECK(rec.next_sample_size == 3);
  size_t sent = 0;
  for (const auto& t : done.send) sent += t.batch.clients.size();
  CHECK(sent == 3);
  // The checkpoint keeps the size; a run with a fixed size refuses it.
  const auto state = f.loop->save_state();
  CHECK(state.sample_size == 3);
  auto fixed = four_over_two(3);
  sync_fixture g(fixed, {0, 0});
  CHECK_THROWS_WITH(g.loop->load_state(state), Catch::Contains("an adaptive sample size"));
  // Every client answers the same Δ: no spread, so the size shrinks to the floor 2.
  std::vector<term> same;
  sync_step last;
  for (const auto& t : done.send) {
    std::vector<term> terms(t.batch.clients.size(), term{{1, 1}, 10, 1});
    last = f.loop->answered(t.batch.id, report_with_clients(t, terms));
  }
  REQUIRE(last.rounds.size() == 1);
  CHECK(last.rounds[0].record.sample_size == 3);
  CHECK(last.rounds[0].record.rel_var == 0.0);
  CHECK(last.rounds[0].record.next_sample_size == 2);
}

TEST_CASE("sync_loop with a fixed size ignores the reports' spread", "[protocol][adaptive_size]") {
  sync_fixture f(four_over_two(2), {0, 0});
  auto st = f.loop->start();
  auto& t0 = task_on(st.send, 0);
  auto& t1 = task_on(st.send, 1);
  f.loop->answered(t0.batch.id, report_with_clients(t0, {{{1, 0.5}, 10, 2}, {{1, 0.5}, 10, 2}}));
  auto done =
      f.loop->answered(t1.batch.id, report_with_clients(t1, {{{0, 1}, 5, 2}, {{2, 0}, 5, 2}}));
  size_t sent = 0;
  for (const auto& t : done.send) sent += t.batch.clients.size();
  CHECK(sent == 4);
  CHECK(done.rounds[0].record.sample_size == 0);
}

TEST_CASE("sync_loop records each edge's tasks, updates, failures and simulated busy time",
          "[protocol]") {
  auto sc = four_over_two();
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  // Client c has 10·(c + 1) samples: it takes 10, 20, 30, 40 simulated seconds.
  sync_fixture f(sc, {1, 2}, "sgd", [](client_id id) { return 10 * (id + 1); });
  auto start = f.loop->start();
  auto& t0 = task_on(start.send, 0);  // clients 0, 1
  REQUIRE(f.edges->lose(1));          // with clients 2, 3 in flight
  auto step = f.loop->edge_lost(1);
  CHECK(step.send.empty());  // rerouted to edge 0, queued behind its batch
  step = f.loop->answered(t0.batch.id, report(t0, {{{1, 1}, 10, 0}, {{1, 1}, 20, 0}}));
  REQUIRE(step.send.size() == 1);
  const auto moved = step.send[0];
  step = f.loop->answered(moved.batch.id,
                          report(moved, {{{1, 1}, 30, 0}}, one(failure_code::client_error)));
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.edges_alive == 1);
  REQUIRE(rec.edge_load.size() == 2);
  // Edge 0: its own two clients (10 + 20 s), then the rerouted two (30 + 40 s).
  CHECK(rec.edge_load[0].tasks == 4);
  CHECK(rec.edge_load[0].updates == 3);
  CHECK(rec.edge_load[0].failed == 1);
  CHECK(rec.edge_load[0].busy_s == 100.0);
  // Edge 1: sent clients 2, 3 (30 + 40 s), lost with them.
  CHECK(rec.edge_load[1].tasks == 2);
  CHECK(rec.edge_load[1].updates == 0);
  CHECK(rec.edge_load[1].failed == 2);
  CHECK(rec.edge_load[1].busy_s == 70.0);
  CHECK(rec.edge_load[0].in_flight == 0);  // async only
}

TEST_CASE("sync_loop edge_load under the real clock has no busy time, and restarts each round",
          "[protocol]") {
  sync_fixture f(four_over_two(2), {1, 2});
  auto step = f.loop->start();
  for (int round = 1; round <= 2; ++round) {
    REQUIRE(step.send.size() == 2);
    const auto a = step.send[0];
    const auto b = step.send[1];
    f.loop->answered(a.batch.id, report(a, {{{1, 1}, 10, 0}, {{1, 1}, 10, 0}}));
    step = f.loop->answered(b.batch.id, report(b, {{{1, 1}, 10, 0}, {{1, 1}, 10, 0}}));
    REQUIRE(step.rounds.size() == 1);
    const auto& rec = step.rounds[0].record;
    CHECK(rec.edges_alive == 2);
    REQUIRE(rec.edge_load.size() == 2);
    for (const auto& l : rec.edge_load) {
      CHECK(l.tasks == 2);
      CHECK(l.updates == 2);
      CHECK(l.failed == 0);
      CHECK(l.busy_s == 0.0);
    }
  }
}

TEST_CASE("sync_loop region routing spills past capacity and pays the inter-region latency",
          "[protocol]") {
  auto sc = four_over_two();
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.topology.routing = routing_kind::region;
  sc.population.regions = 2;
  // Clients 0, 1, 2 in region 0, client 3 in region 1; edge 0 in region 0, edge 1 in region 1.
  auto registry = std::make_shared<client_registry>(
      4, sc.seed, 2, [](client_id id) { return 10 * (id + 1); },
      [](client_id id) {
        return client_meta{1.0f, uint16_t(id == 3 ? 1 : 0)};
      });
  auto edges = testing::make_edge_set(sc);
  edges->route_by_region(std::make_unique<region_router>(std::vector<uint32_t>{0, 1}, 2,
                                                         region_latency_matrix({}, 2), 2),
                         registry.get());
  sync_loop::parts p{registry, make_sampler(sc.selection.strategy, *registry, sc.seed),
                     testing::fresh_optimizer("sgd", 2)};
  sync_loop loop(sc, std::move(p), *edges, {1, 2}, 1);
  auto step = loop.start();
  // In id order: 0 and 1 fill edge 0 (capacity 2), 2 spills to region 1's edge 1, 3 is home.
  REQUIRE(step.send.size() == 2);
  CHECK(task_on(step.send, 0).batch.clients == std::vector<uint32_t>{0, 1});
  CHECK(task_on(step.send, 1).batch.clients == std::vector<uint32_t>{2, 3});
  CHECK(edges->regions()->load(0) == 2);
  CHECK(edges->regions()->load(1) == 2);
  const auto sent = step.send;
  step = loop.answered(task_on(sent, 0).batch.id,
                       report(task_on(sent, 0), {{{1, 1}, 10, 0}, {{1, 1}, 20, 0}}));
  step = loop.answered(task_on(sent, 1).batch.id,
                       report(task_on(sent, 1), {{{1, 1}, 30, 0}, {{1, 1}, 40, 0}}));
  REQUIRE(step.rounds.size() == 1);
  const auto& rec = step.rounds[0].record;
  CHECK(rec.rerouted == 1);
  // Client 3 (40 s) on its own region's edge pays 2 x 0.01 s; client 2 (30 s) pays 2 x 0.1 s.
  CHECK(rec.sim_round_s == 40.0 + 2 * 0.01);
}

namespace {

// A sync loop whose registry puts client c in region c % regions with `samples(c)` samples.
struct regional_fixture {
  scenario sc;
  std::shared_ptr<client_registry> registry;
  std::unique_ptr<edge_set> edges;
  std::unique_ptr<sync_loop> loop;

  regional_fixture(scenario s, uint32_t regions, std::function<uint32_t(client_id)> samples)
      : sc(std::move(s)) {
    registry = std::make_shared<client_registry>(
        sc.population.clients, sc.seed, regions, samples, [regions](client_id id) {
          return client_meta{1.0f, static_cast<uint16_t>(id % regions)};
        });
    edges = testing::make_edge_set(sc);
    sync_loop::parts p{registry, make_sampler(sc.selection.strategy, *registry, sc.seed),
                       testing::fresh_optimizer("sgd", 2)};
    loop = std::make_unique<sync_loop>(sc, std::move(p), *edges, std::vector<float>{0, 0}, 1);
  }
};

}  // namespace

TEST_CASE("sync_loop with availability samples online clients only and fails those going offline",
          "[protocol][availability]") {
  // Clients 0..3 take 10, 20, 30, 40 s; region 0 (clients 0, 2) is online in [0, 15) and
  // region 1 (clients 1, 3) in [15, 30).
  auto sc = four_over_two(2);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.population.availability = testing::on_off(15, {0, 15});
  regional_fixture f(sc, 2, [](client_id id) { return 10 * (id + 1); });
  auto step = f.loop->start();
  // Round 1 at t = 0: only 0 and 2 are online (4 wanted, 2 taken); 2 would finish at 30,
  // after going offline at 15: failed, never sent.
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].batch.clients == std::vector<uint32_t>{0});
  step = f.loop->answered(step.send[0].batch.id, report(step.send[0], {{{1, 1}, 10, 0}}));
  // Round 2 at t = 10: 0 and 2 are online but neither finishes before 15: nothing is sent and
  // the round (the last) ends when they go offline.
  REQUIRE(step.rounds.size() == 2);
  CHECK(step.finished);
  CHECK(step.send.empty());
  const auto& r1 = step.rounds[0].record;
  CHECK(r1.online_fraction == 0.5);  // (2 · 1 + 2 · 0) / 4
  CHECK(r1.wanted == 4);
  CHECK(r1.selected == 2);
  CHECK(r1.went_offline == 1);
  CHECK(r1.failures == 1);
  CHECK(r1.failures_by.of(failure_code::unavailable) == 1);
  CHECK(r1.dropped == 0);
  CHECK(r1.clients == 1);
  CHECK(r1.sim_round_s == 10.0);
  const auto& r2 = step.rounds[1].record;
  CHECK(r2.selected == 2);
  CHECK(r2.went_offline == 2);
  CHECK(r2.failures_by.of(failure_code::unavailable) == 2);
  CHECK(r2.clients == 0);
  CHECK(r2.sim_round_s == 5.0);  // nothing reported: the round lasts until the last went offline
  CHECK(f.loop->totals().failures.of(failure_code::unavailable) == 3);
}

TEST_CASE("sync_loop never sends a client that is offline at dispatch or during its task",
          "[protocol][availability]") {
  // 200 clients in 3 regions, 20 per round, 10 s tasks, 7 s slots: rounds cross slots. Every
  // client sent must be online for its whole task by an independent online_model; the rest of
  // each round's pick went offline (no deadline, no over-selection). Same seed, same rounds.
  auto sc = testing::loop_scenario(200, 4);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.selection.clients_per_round = 20;
  sc.protocol.rounds = 30;
  sc.population.availability.model = availability_model::diurnal;
  sc.population.availability.base = 0.5;
  sc.population.availability.amplitude = 0.4;
  sc.population.availability.period_s = 70;
  sc.population.availability.slot_s = 7;
  sc.population.availability.peak_s = {0, 20, 45};
  const auto ten = [](client_id) { return 10u; };
  regional_fixture a(sc, 3, ten);
  regional_fixture b(sc, 3, ten);
  online_model check(sc.population.availability, *a.registry, sc.seed);
  auto sa = a.loop->start();
  auto sb = b.loop->start();
  uint32_t rounds = 0, sent_total = 0, offline_total = 0;
  while (true) {
    const double t = a.loop->sim_time();
    const auto sent = clients_sent(sa.send);
    CHECK(sent == clients_sent(sb.send));
    for (auto id : sent) {
      CHECK(check.online(id, t));
      CHECK_FALSE(check.offline_at(id, t, t + 10));
    }
    sent_total += static_cast<uint32_t>(sent.size());
    sa = answer_each(*a.loop, sa.send);
    sb = answer_each(*b.loop, sb.send);
    for (auto& r : sa.rounds) {
      ++rounds;
      CHECK(r.record.selected == r.record.clients + r.record.went_offline);
      CHECK(r.record.failures_by.of(failure_code::unavailable) == r.record.went_offline);
      CHECK(r.record.wanted == 20);
      offline_total += r.record.went_offline;
    }
    if (sa.finished) break;
    REQUIRE_FALSE(sa.send.empty());
  }
  CHECK(sb.finished);
  CHECK(rounds == 30);
  CHECK(sent_total > 0);
  CHECK(offline_total > 0);  // 10 s tasks in 7 s slots: some go offline
  CHECK(*a.loop->model() == *b.loop->model());
}

TEST_CASE("sync_loop pace steering over-selects from the failure rate and resumes it exactly",
          "[protocol][availability]") {
  // 20 clients of 10 s each, 5 per round, ewma 0.5, max factor 2.
  auto sc = testing::loop_scenario(20, 2);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.selection.clients_per_round = 5;
  sc.selection.pace.enabled = true;
  sc.selection.pace.ewma = 0.5;
  sc.selection.pace.max_factor = 2.0;
  sc.protocol.rounds = 3;
  sync_fixture a(sc, {0, 0});
  a.loop->checkpoint_every(1);
  auto s = a.loop->start();
  CHECK(clients_sent(s.send).size() == 5);  // factor 1
  // Round 1: all 5 fail: f = 0.5 · 1 = 0.5: factor 2, 10 picked, the first 5 kept.
  s = fail_all(*a.loop, s.send);
  REQUIRE(s.rounds.size() == 1);
  CHECK(s.rounds[0].record.over_select_factor == 1.0);
  CHECK(s.rounds[0].record.wanted == 5);
  REQUIRE(s.checkpoint);
  const auto state = decode_sync_state(s.checkpoint->state, "ck");
  CHECK(state.pace_failure_rate == 0.5);
  CHECK(clients_sent(s.send).size() == 5);
  const auto round2 = clients_sent(s.send);
  // Round 2: 2 of the 5 that took a task fail (the 5 over-selected ones did not take one):
  // f = 0.25 + 0.5 · 0.4 = 0.45: factor 1 / 0.55 = 1.818: ceil(9.09) = 10 wanted.
  sync_step r2;
  for (const auto& t : s.send) {
    std::vector<term> terms;
    uint32_t failed = 0;
    for (auto c : t.batch.clients) {
      if (c == round2[0] || c == round2[1])
        ++failed;
      else
        terms.push_back({{1, 1}, 10, 1.0});
    }
    edge_report rep;
    rep.round = t.round;
    rep.aggregate = aggregate_of(2, terms);
    rep.failed = one(failure_code::client_error, failed);
    r2 = a.loop->answered(t.batch.id, std::move(rep));
  }
  REQUIRE(r2.rounds.size() == 1);
  const auto& rec2 = r2.rounds[0].record;
  CHECK(rec2.over_select_factor == 2.0);
  CHECK(rec2.wanted == 10);
  CHECK(rec2.selected == 10);
  CHECK(rec2.dropped == 5);
  CHECK(rec2.failures == 2);
  REQUIRE(r2.checkpoint);
  CHECK(decode_sync_state(r2.checkpoint->state, "ck").pace_failure_rate == Approx(0.45));

  // Resumed after round 1: the same round 2 (10 picked, the same 5 sent).
  sync_fixture b(sc, {0, 0});
  b.loop->load_state(decode_sync_state(encode(state), "ck"));
  CHECK(clients_sent(b.loop->start().send) == round2);
  // A run without pace steering refuses the state, and the other way round.
  auto plain = sc;
  plain.selection.pace.enabled = false;
  sync_fixture c(plain, {0, 0});
  CHECK_THROWS_WITH(c.loop->load_state(state),
                    "checkpoint: a pace steering state, this run has no selection.pace");
  sync_fixture d(sc, {0, 0});
  auto no_pace = state;
  no_pace.pace_failure_rate = -1;
  CHECK_THROWS_WITH(d.loop->load_state(no_pace),
                    "checkpoint: no pace steering state, this run has selection.pace");
}
