// Tests of runtime/protocol/async_loop.*: FedBuff driven by task answers, failures and edge
// losses; stand-in client updates and group aggregates, so every model is computed by hand (or,
// for the stateful server optimizers, by a fresh optimizer of the same kind on the hand-made
// mean).

#include "runtime/protocol/async_loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/population/sample_size.hpp"
#include "tests/support/protocol_helpers.hpp"

using namespace fedactor;
using fedactor::testing::aggregate_of;
using fedactor::testing::term;

namespace {

using samples_fn = std::function<uint32_t(client_id)>;

// `clients` clients over `edges` edges (range routing), real clock, constant staleness weight,
// threshold 5, delta rule base, forward mode.
scenario async_scenario(uint64_t clients, uint32_t edges, uint32_t concurrency,
                        uint32_t buffer_size, uint32_t aggregations = 100) {
  auto sc = testing::loop_scenario(clients, edges);
  sc.protocol.mode = protocol_mode::async;
  sc.training.timeout_s = 10;
  sc.async.concurrency = concurrency;
  sc.async.buffer_size = buffer_size;
  sc.async.aggregations = aggregations;
  sc.async.staleness_threshold = 5;
  sc.async.decay.kind = decay_kind::constant;
  sc.async.delta = delta_rule::base;
  sc.async.edge = edge_mode::forward;
  return sc;
}

// An async loop over a scenario without data: sample counts from `samples`, a fresh `kind`
// server optimizer with its defaults, the random sampler, the scenario's staleness weight.
struct async_fixture {
  scenario sc;
  std::shared_ptr<client_registry> registry;
  std::unique_ptr<edge_set> edges;  // outlives the loop
  std::unique_ptr<async_loop> loop;

  async_fixture(scenario s, std::vector<float> model, samples_fn samples,
                const std::string& kind = "sgd", uint32_t edge_capacity = 1)
      : sc(std::move(s)) {
    registry = testing::make_registry(sc, std::move(samples));
    edges = testing::make_edge_set(sc);
    async_loop::parts p{registry,
                        make_sampler(sc.selection.strategy, *registry, sc.seed),
                        testing::fresh_optimizer(kind, model.size()),
                        {}};
    loop = std::make_unique<async_loop>(sc, std::move(p), *edges, std::move(model), edge_capacity);
  }
};

// `aggregations` steps of buffer 2 over 8 clients, 4 in flight, on the simulated clock with
// exponential staleness decay (threshold 2): the run the order and resume tests vary.
scenario decayed_simulated(uint32_t aggregations) {
  auto sc = async_scenario(8, 2, 4, 2, aggregations);
  sc.clock = clock_kind::simulated;
  sc.seed = 11;
  sc.async.staleness_threshold = 2;
  sc.async.decay.kind = decay_kind::exponential;
  sc.async.decay.base = 0.5;
  return sc;
}

samples_fn ten_each() {
  return [](client_id) { return 10u; };
}

// Client c has table[c] samples.
samples_fn samples_of(std::vector<uint32_t> table) {
  return [table](client_id id) { return table.at(id); };
}

const async_task& of_client(const std::vector<async_task>& ts, uint32_t client) {
  for (const auto& t : ts)
    if (t.client == client) return t;
  FAIL("no task for client " << client);
  return ts.front();
}

std::vector<uint32_t> clients_of(const std::vector<async_task>& ts) {
  std::vector<uint32_t> out;
  for (const auto& t : ts) out.push_back(t.client);
  std::sort(out.begin(), out.end());
  return out;
}

// The client's answer: its model after training is the task's model + `delta`.
task_outcome update(const async_task& t, const std::vector<float>& delta, uint32_t samples,
                    double loss = 0) {
  std::vector<float> params(*t.model);
  REQUIRE(params.size() == delta.size());
  for (size_t i = 0; i < params.size(); ++i) params[i] += delta[i];
  return task_update{samples, loss, make_snapshot(std::move(params)), 0};
}

async_step answer(async_loop& loop, const async_task& t, const std::vector<float>& delta,
                  uint32_t samples, double loss = 0) {
  return loop.answered(t.seq, t.attempt, t.client, update(t, delta, samples, loss));
}

// Collects what the loop asks for, keeps the tasks in flight (a resent task replaces its
// earlier attempt).
struct driver {
  std::vector<async_task> pending;
  std::vector<finished_round> steps;
  bool finished = false;

  void take(async_step s) {
    for (auto& t : s.send) {
      auto same = std::find_if(pending.begin(), pending.end(),
                               [&](const async_task& p) { return p.seq == t.seq; });
      if (same != pending.end())
        *same = t;
      else
        pending.push_back(t);
    }
    for (auto& r : s.steps) steps.push_back(std::move(r));
    finished = finished || s.finished;
  }
  async_task pop(size_t i) {
    auto t = pending.at(i);
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
    return t;
  }
};

template <class T>
auto bits_of(T x) {
  std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t> bits;
  static_assert(sizeof bits == sizeof x);
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// The model every step of `d` produced, and its records' protocol fields, as one comparable
// text (floating-point values by their bits).
std::string trace(const driver& d) {
  std::string out;
  for (const auto& s : d.steps) {
    out += std::to_string(s.record.round) + " v" + std::to_string(s.record.model_version) + " n" +
           std::to_string(s.record.clients) + " t" + std::to_string(bits_of(s.record.sim_time_s)) +
           " h";
    for (auto h : s.record.staleness_histogram) out += std::to_string(h) + ",";
    if (s.record.norm_bound > 0)
      out += " b" + std::to_string(bits_of(s.record.norm_bound)) + " c" +
             std::to_string(s.record.norm_clipped) + " r" + std::to_string(s.record.norm_rejected);
    if (s.record.sample_size > 0)
      out += " k" + std::to_string(s.record.sample_size) + " v" +
             std::to_string(bits_of(s.record.rel_var)) + " k'" +
             std::to_string(s.record.next_sample_size);
    out += " m";
    for (float x : *s.model) out += std::to_string(bits_of(x)) + ",";
    out += "\n";
  }
  return out;
}

// Runs `sc` to the end under the simulated clock, answering the pending task that `pick`
// chooses each time; every client moves its task's model by (c+1)/4 · (1, -1) with its
// registry sample count and loss c/8.
std::string run_with(const scenario& sc, const std::string& kind,
                     const std::function<size_t(const std::vector<async_task>&)>& pick) {
  async_fixture f(
      sc, {0.5f, -0.25f}, [](client_id id) { return 20 + 7 * (id % 5); }, kind);
  driver d;
  d.take(f.loop->start());
  size_t answers = 0;
  while (!d.finished && !d.pending.empty() && answers < 10000) {
    auto t = d.pop(pick(d.pending));
    const float s = static_cast<float>(t.client + 1) / 4;
    d.take(answer(*f.loop, t, {s, -s}, f.registry->num_samples(t.client), t.client / 8.0));
    ++answers;
  }
  REQUIRE(d.finished);
  return trace(d);
}

}  // namespace

TEST_CASE("async_loop needs its parts and a model", "[protocol]") {
  auto sc = async_scenario(4, 1, 2, 2);
  auto registry = testing::make_registry(sc, ten_each());
  auto edges = testing::make_edge_set(sc);
  auto parts = [&] {
    return async_loop::parts{registry,
                             make_sampler(sc.selection.strategy, *registry, sc.seed),
                             testing::fresh_optimizer("sgd", 2),
                             {}};
  };
  auto no_optimizer = parts();
  no_optimizer.optimizer.reset();
  CHECK_THROWS_AS(async_loop(sc, std::move(no_optimizer), *edges, {0, 0}, 1),
                  std::invalid_argument);
  auto no_sampler = parts();
  no_sampler.pick.reset();
  CHECK_THROWS_AS(async_loop(sc, std::move(no_sampler), *edges, {0, 0}, 1), std::invalid_argument);
  CHECK_THROWS_AS(async_loop(sc, parts(), *edges, {}, 1), std::invalid_argument);
  auto bad = sc;
  bad.async.buffer_size = 0;
  CHECK_THROWS_AS(async_loop(bad, parts(), *edges, {0, 0}, 1), std::invalid_argument);
}

TEST_CASE("async_loop start fills the concurrency slots with distinct clients", "[protocol]") {
  // 10 clients over 2 edges: edge 0 serves 0..4, edge 1 serves 5..9.
  async_fixture f(async_scenario(10, 2, 3, 2), {1, 2}, ten_each());
  auto step = f.loop->start();
  REQUIRE(step.send.size() == 3);
  CHECK(step.close.empty());
  CHECK(step.steps.empty());
  CHECK(f.loop->in_flight() == 3);
  auto clients = clients_of(step.send);
  CHECK(std::unique(clients.begin(), clients.end()) == clients.end());
  for (size_t i = 0; i < step.send.size(); ++i) {
    const auto& t = step.send[i];
    CAPTURE(i, t.client);
    CHECK(t.seq == i);
    CHECK(t.attempt == 0);
    CHECK(t.edge == t.client / 5);
    CHECK(t.base_version == 0);
    CHECK(t.model == f.loop->model());
    CHECK(t.group == 0);
    CHECK(t.finish == 0.0);
    // Up to 3 tasks queue at an edge that trains 1 at a time: 3 waves of 10 s, plus 30 s.
    CHECK(t.timeout_s == 60.0);
  }
}

TEST_CASE("async_loop folds fresh updates and steps at exactly buffer_size", "[protocol]") {
  // 4 clients, all in flight; samples 10, 30, 20, 20.
  async_fixture f(async_scenario(4, 1, 4, 2), {1, 2}, samples_of({10, 30, 20, 20}));
  auto start = f.loop->start();
  REQUIRE(clients_of(start.send) == std::vector<uint32_t>{0, 1, 2, 3});
  // Client 0: Δ (1, -2), 10 samples, loss 0.5: folded, no step yet; its slot is refilled.
  auto step = answer(*f.loop, of_client(start.send, 0), {1, -2}, 10, 0.5);
  CHECK(step.steps.empty());
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].client == 0);  // the only client not in flight
  CHECK(step.send[0].base_version == 0);
  CHECK(step.send[0].seq == 4);
  CHECK(f.loop->buffer_stats().buffered == 1);
  CHECK(f.loop->version() == 0);
  // Client 1: Δ (3, 2), 30 samples, loss 1.5: the buffer holds 2 = buffer_size, the server steps.
  step = answer(*f.loop, of_client(start.send, 1), {3, 2}, 30, 1.5);
  REQUIRE(step.steps.size() == 1);
  // mean Δ = ((10 + 90) / 40, (-20 + 60) / 40) = (2.5, 1); sgd lr 1: (1 + 2.5, 2 + 1).
  const std::vector<float> expected{3.5f, 3.0f};
  CHECK(*f.loop->model() == expected);
  CHECK(*step.steps[0].model == expected);
  const auto& rec = step.steps[0].record;
  CHECK(rec.async);
  CHECK(rec.round == 1);
  CHECK(rec.model_version == 1);
  CHECK(rec.clients == 2);
  CHECK(rec.failures == 0);
  CHECK(rec.mean_loss == 1.25);  // (10·0.5 + 30·1.5) / 40
  CHECK(rec.staleness_histogram == std::vector<uint32_t>{2, 0, 0, 0, 0, 0});
  CHECK(rec.mean_decay == 1.0);
  CHECK(rec.stale_discarded == 0);
  CHECK_FALSE(step.finished);
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].client == 1);
  CHECK(step.send[0].base_version == 1);
  CHECK(step.send[0].model == f.loop->model());
  CHECK(f.loop->version() == 1);
  CHECK(f.loop->steps_done() == 1);
  CHECK(f.loop->totals().clients_trained == 2);
  CHECK(f.loop->totals().total_updates == 2);
  CHECK(f.loop->totals().final_loss == 1.25);
}

TEST_CASE("async_loop runs the same protocol under every server optimizer", "[protocol]") {
  for (const auto& kind : server_optimizer_kinds()) {
    CAPTURE(kind);
    async_fixture f(async_scenario(4, 1, 4, 2, 2), {1, 2}, samples_of({10, 30, 20, 20}), kind);
    auto start = f.loop->start();
    REQUIRE(start.send.size() == 4);
    // Step 1: clients 0 and 1 from version 0, mean Δ (2.5, 1) (as above).
    answer(*f.loop, of_client(start.send, 0), {1, -2}, 10);
    auto step = answer(*f.loop, of_client(start.send, 1), {3, 2}, 30);
    REQUIRE(step.steps.size() == 1);
    CHECK(step.steps[0].record.clients == 2);
    CHECK(step.steps[0].record.model_version == 1);
    CHECK(*f.loop->model() == testing::optimizer_path(kind, {1, 2}, {{2.5f, 1.0f}}));
    // Step 2: clients 2 and 3, both from version 0 (staleness 1, constant weight), 20 samples
    // each, Δ (1, 0) and (1, 1) against version 0's model: mean (1, 0.5).
    answer(*f.loop, of_client(start.send, 2), {1, 0}, 20);
    step = answer(*f.loop, of_client(start.send, 3), {1, 1}, 20);
    REQUIRE(step.steps.size() == 1);
    CHECK(step.finished);
    CHECK(f.loop->finished());
    const auto& rec = step.steps[0].record;
    CHECK(rec.round == 2);
    CHECK(rec.model_version == 2);
    CHECK(rec.clients == 2);
    CHECK(rec.staleness_histogram == std::vector<uint32_t>{0, 2, 0, 0, 0, 0});
    CHECK(f.loop->version() == 2);
    CHECK(*f.loop->model() == testing::optimizer_path(kind, {1, 2}, {{2.5f, 1.0f}, {1.0f, 0.5f}}));
    CHECK(f.loop->totals().clients_trained == 4);
  }
}

TEST_CASE("async_loop discards an update above the staleness threshold and counts it",
          "[protocol]") {
  auto sc = async_scenario(2, 1, 2, 1);
  sc.async.staleness_threshold = 0;
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  // Client 0 from version 0: Δ (1, -2) -> version 1, model (2, 0); client 0 goes out again.
  auto step = answer(*f.loop, of_client(start.send, 0), {1, -2}, 10);
  REQUIRE(step.steps.size() == 1);
  REQUIRE(step.send.size() == 1);
  const auto again = step.send[0];
  CHECK(again.base_version == 1);
  // Client 1 started from version 0: staleness 1 > 0, discarded; no step.
  step = answer(*f.loop, of_client(start.send, 1), {3, 2}, 10);
  CHECK(step.steps.empty());
  CHECK(f.loop->totals().stale_updates == 1);
  REQUIRE(step.send.size() == 1);  // its slot is refilled all the same
  CHECK(step.send[0].client == 1);
  // Client 0 from version 1: Δ (1, 1) -> (3, 1).
  step = answer(*f.loop, again, {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 1);
  CHECK(rec.failures_by.of(failure_code::stale) == 1);
  CHECK(rec.failures == 0);  // stale is discarded by design, not a failure
  CHECK(rec.stale_discarded == 1);
  CHECK(rec.staleness_histogram == std::vector<uint32_t>{1});
  CHECK(*f.loop->model() == std::vector<float>{3, 1});
  CHECK(f.loop->totals().failures.of(failure_code::stale) == 1);
}

TEST_CASE("async_loop folds an update exactly at the staleness threshold", "[protocol]") {
  auto sc = async_scenario(2, 1, 2, 1);
  sc.async.staleness_threshold = 1;
  sc.async.decay.kind = decay_kind::exponential;
  sc.async.decay.base = 0.5;
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  answer(*f.loop, of_client(start.send, 0), {1, -2}, 10);  // -> version 1, (2, 0)
  // Client 1 from version 0, staleness 1 = threshold: folded, weight 10 · 0.5^1. Alone in the
  // buffer, its weight does not matter: Δ = (4, 4) − version 0's (1, 2) = (3, 2) -> (5, 2).
  auto step = answer(*f.loop, of_client(start.send, 1), {3, 2}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 1);
  CHECK(rec.failures_by.of(failure_code::stale) == 0);
  CHECK(rec.stale_discarded == 0);
  CHECK(rec.staleness_histogram == std::vector<uint32_t>{0, 1});
  CHECK(rec.mean_decay == 0.5);
  CHECK(*f.loop->model() == std::vector<float>{5, 2});
}

TEST_CASE("async_loop refuses an answer that does not fit its task as invalid_update",
          "[protocol]") {
  async_fixture f(async_scenario(2, 1, 2, 1), {1, 2}, ten_each());
  auto start = f.loop->start();
  const auto& t = start.send[0];
  const auto& other = start.send[1];
  const auto c = std::to_string(t.client);
  const auto before = answer_refusal_counts();
  async_step step;
  std::string why;
  answer_refusal reason{};
  SECTION("naming another task (refused by the shell)") {
    step =
        f.loop->refused(t.seq, t.attempt, answer_refusal::unknown_task, "an answer naming task 77");
    why = "an answer naming task 77";
    reason = answer_refusal::unknown_task;
  }
  SECTION("for another client") {
    step = f.loop->answered(t.seq, t.attempt, other.client, update(t, {1, 1}, 10));
    why = "answered for client " + std::to_string(other.client) + ", the task was " + c + "'s";
    reason = answer_refusal::wrong_client;
  }
  SECTION("with a sample count that is not the registry's") {
    step = answer(*f.loop, t, {1, 1}, 11);
    why = "claims 11 samples, the registry says 10";
    reason = answer_refusal::wrong_samples;
  }
  SECTION("with another shape") {
    step = f.loop->answered(t.seq, t.attempt, t.client,
                            task_update{10, 0, make_snapshot({1, 2, 3}), 0});
    why = "has 3 parameters, expected 2";
    reason = answer_refusal::wrong_dimension;
  }
  SECTION("with another shape and another sample count: the shape is named") {
    step = f.loop->answered(t.seq, t.attempt, t.client, task_update{11, 0, make_snapshot({1}), 0});
    why = "has 1 parameters, expected 2";
    reason = answer_refusal::wrong_dimension;
  }
  SECTION("without parameters") {
    step = f.loop->answered(t.seq, t.attempt, t.client, task_update{10, 0, nullptr, 0});
    why = "has 0 parameters, expected 2";
    reason = answer_refusal::wrong_dimension;
  }
  SECTION("with a non-finite value") {
    step = f.loop->answered(t.seq, t.attempt, t.client,
                            task_update{10, 0, make_snapshot({NAN, 2}), 0});
    why = "an update with non-finite values or loss";
    reason = answer_refusal::non_finite;
  }
  SECTION("with an infinite value and another sample count: the value is named") {
    step = f.loop->answered(t.seq, t.attempt, t.client,
                            task_update{11, 0, make_snapshot({1, -INFINITY}), 0});
    why = "an update with non-finite values or loss";
    reason = answer_refusal::non_finite;
  }
  SECTION("with a non-finite loss") {
    step = f.loop->answered(t.seq, t.attempt, t.client,
                            task_update{10, NAN, make_snapshot({1, 2}), 0});
    why = "an update with non-finite values or loss";
    reason = answer_refusal::non_finite;
  }
  SECTION("held, for a task in no group") {
    step = f.loop->answered(t.seq, t.attempt, t.client, task_held{});
    why = "held for a forwarded task";
    reason = answer_refusal::wrong_kind;
  }
  SECTION("a group aggregate, for a task in no group") {
    step = f.loop->answered(t.seq, t.attempt, t.client,
                            task_group{aggregate_of(2, {{{1, 1}, 10, 0}}), {t.seq}, 0});
    why = "a group aggregate for a forwarded task";
    reason = answer_refusal::wrong_kind;
  }
  // Counted once, by its reason, and listed for the shell with the edge that sent it.
  auto after = answer_refusal_counts();
  CHECK(after[static_cast<size_t>(reason)] == before[static_cast<size_t>(reason)] + 1);
  after[static_cast<size_t>(reason)] -= 1;
  CHECK(after == before);
  REQUIRE(step.refused.size() == 1);
  CHECK(step.refused[0].edge == t.edge);
  CHECK(step.refused[0].what == "edge " + std::to_string(t.edge) + ", task " +
                                    std::to_string(t.seq) + ", client " + c + ": " + why + " (" +
                                    to_string(reason) + ")");
  why = "client " + c + ": " + why;
  // A second answer to the same task changes nothing and is not counted again.
  CHECK(f.loop->answered(t.seq, t.attempt, t.client, task_held{}).refused.empty());
  CHECK(answer_refusal_counts()[static_cast<size_t>(reason)] ==
        before[static_cast<size_t>(reason)] + 1);
  CHECK(step.steps.empty());
  REQUIRE(step.send.size() == 1);  // the refused task's slot is refilled
  CHECK(step.send[0].client == t.client);
  CHECK(f.loop->version() == 0);
  step = answer(*f.loop, other, {2, 2}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 1);
  CHECK(rec.failures == 1);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 1);
  CHECK(rec.failure_reasons == std::vector<std::string>{why});
  CHECK(*f.loop->model() == std::vector<float>{3, 4});  // only the fitting update moved it
}

TEST_CASE("async_loop ignores answers to an earlier attempt, an unknown task or a second answer",
          "[protocol]") {
  // 4 clients over 2 edges: 0, 1 at edge 0; 2, 3 at edge 1.
  async_fixture f(async_scenario(4, 2, 4, 1), {1, 2}, ten_each());
  auto start = f.loop->start();
  const auto first = of_client(start.send, 2);
  REQUIRE(f.edges->lose(1));
  auto lost = f.loop->edge_lost(1);
  const auto& resent = of_client(lost.send, 2);
  REQUIRE(resent.attempt == 1);
  // The lost edge's answer to attempt 0 arrives after all: ignored.
  auto step = answer(*f.loop, first, {1, 1}, 10);
  CHECK(step.send.empty());
  CHECK(step.steps.empty());
  CHECK(f.loop->in_flight() == 4);
  CHECK(f.loop->answered(99, 0, 2, update(first, {1, 1}, 10)).send.empty());
  CHECK(f.loop->failed(first.seq, 0, failure_code::timeout, "late").send.empty());
  // The answer to attempt 1 folds: Δ (1, 1) -> (2, 3).
  step = answer(*f.loop, resent, {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.steps[0].record.failures == 0);
  CHECK(*f.loop->model() == std::vector<float>{2, 3});
  // A second answer to the same attempt changes nothing.
  step = answer(*f.loop, resent, {5, 5}, 10);
  CHECK(step.steps.empty());
  CHECK(step.send.empty());
  CHECK(*f.loop->model() == std::vector<float>{2, 3});
}

TEST_CASE("async_loop counts a failed task under its code and refills its slot", "[protocol]") {
  async_fixture f(async_scenario(2, 1, 2, 1), {1, 2}, ten_each());
  auto start = f.loop->start();
  const auto& t = start.send[0];
  auto step = f.loop->failed(t.seq, t.attempt, failure_code::timeout, "no answer in 60 s");
  CHECK(step.steps.empty());
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].client == t.client);
  CHECK(step.send[0].attempt == 0);  // a new task, not a resend
  CHECK(step.send[0].seq == 2);
  step = f.loop->failed(step.send[0].seq, 0, failure_code::client_error, "no data");
  step = answer(*f.loop, start.send[1], {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.failures == 2);
  CHECK(rec.failures_by.of(failure_code::timeout) == 1);
  CHECK(rec.failures_by.of(failure_code::client_error) == 1);
  const auto c = std::to_string(t.client);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client " + c + ": edge 0: no answer in 60 s",
                                 "client " + c + ": edge 0: no data"});
  CHECK(f.loop->totals().failures.total() == 2);
}

TEST_CASE("async_loop resends a lost edge's unanswered tasks to survivors, attempt + 1",
          "[protocol]") {
  // 4 clients over 2 edges: 0, 1 at edge 0; 2, 3 at edge 1. All 4 in flight.
  async_fixture f(async_scenario(4, 2, 4, 4), {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(f.edges->lose(1));
  auto lost = f.loop->edge_lost(1);
  // Clients 2 and 3 go to edge 0, the only survivor, as the same tasks.
  REQUIRE(lost.send.size() == 2);
  const auto resent = lost.send;
  for (uint32_t c : {2u, 3u}) {
    CAPTURE(c);
    const auto& before = of_client(start.send, c);
    const auto& after = of_client(resent, c);
    CHECK(after.seq == before.seq);
    CHECK(after.attempt == 1);
    CHECK(after.edge == 0);
    CHECK(after.group == 0);
    CHECK(after.base_version == 0);
    CHECK(after.model == before.model);
  }
  CHECK(f.loop->in_flight() == 4);
  REQUIRE(f.edges->rejoin(1));
  CHECK(f.loop->edge_rejoined(1).send.empty());  // every client is busy: nothing to fill
  answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  answer(*f.loop, of_client(start.send, 1), {1, 1}, 10);
  auto step = answer(*f.loop, of_client(resent, 2), {1, 1}, 10);
  // Edge 1 is back: client 2's next task goes home.
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].client == 2);
  CHECK(step.send[0].edge == 1);
  step = answer(*f.loop, of_client(resent, 3), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 4);
  CHECK(rec.failures == 0);
  CHECK(rec.edges_lost == 1);
  CHECK(rec.edges_rejoined == 1);
  CHECK(rec.rerouted == 2);
  CHECK(*f.loop->model() == std::vector<float>{2, 3});
}

TEST_CASE("async_loop under the drop policy fails a lost edge's tasks as edge_lost", "[protocol]") {
  auto sc = async_scenario(4, 2, 4, 2);
  sc.faults.on_edge_loss = edge_loss_policy::drop;
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(f.edges->lose(1));
  auto lost = f.loop->edge_lost(1);
  // Clients 2, 3 fail; 0, 1 are busy and 2, 3 unreachable: no task to send.
  CHECK(lost.send.empty());
  CHECK(f.loop->in_flight() == 2);
  answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  auto step = answer(*f.loop, of_client(start.send, 1), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.failures_by.of(failure_code::edge_lost) == 2);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client 2: edge 1 lost", "client 3: edge 1 lost"});
  CHECK(rec.rerouted == 0);
  CHECK(rec.edges_lost == 1);
  // Refills only reach edge 0's clients.
  for (const auto& t : step.send) CHECK(t.edge == 0);
}

TEST_CASE("async_loop under the simulated clock releases results in finish order", "[protocol]") {
  auto sc = async_scenario(3, 1, 3, 1);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  // Client c's task takes its sample count in simulated seconds: 10, 15, 40.
  async_fixture f(sc, {1, 2}, samples_of({10, 15, 40}));
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 3);
  CHECK(of_client(start.send, 0).finish == 10.0);
  CHECK(of_client(start.send, 1).finish == 15.0);
  CHECK(of_client(start.send, 2).finish == 40.0);
  // Answers arrive slowest first: held back until the fastest is in.
  auto step = answer(*f.loop, of_client(start.send, 2), {1, 1}, 40);
  CHECK(step.steps.empty());
  CHECK(step.send.empty());
  step = answer(*f.loop, of_client(start.send, 1), {2, 0}, 15);
  CHECK(step.steps.empty());
  // Client 0 (t 10) is in: 0 is released (step 1 at t 10, client 0 goes out again, t 10 + 10),
  // then 1 (step 2 at t 15, client 1 again, t 15 + 15); client 0's new task (t 20) blocks
  // client 2's (t 40).
  step = answer(*f.loop, of_client(start.send, 0), {0, 2}, 10);
  REQUIRE(step.steps.size() == 2);
  CHECK(step.steps[0].record.sim_time_s == 10.0);
  CHECK(step.steps[0].record.sim_round_s == 10.0);
  CHECK(step.steps[1].record.sim_time_s == 15.0);
  CHECK(step.steps[1].record.sim_round_s == 5.0);
  // (1, 2) + (0, 2) = (1, 4); then client 1 from version 0: Δ (2, 0) -> (3, 4).
  CHECK(*step.steps[0].model == std::vector<float>{1, 4});
  CHECK(*step.steps[1].model == std::vector<float>{3, 4});
  CHECK(step.steps[1].record.staleness_histogram == std::vector<uint32_t>{0, 1, 0, 0, 0, 0});
  REQUIRE(step.send.size() == 2);
  CHECK(step.send[0].client == 0);
  CHECK(step.send[0].base_version == 1);
  CHECK(step.send[0].finish == 20.0);
  CHECK(step.send[1].client == 1);
  CHECK(step.send[1].base_version == 2);
  CHECK(step.send[1].finish == 30.0);
  CHECK(f.loop->sim_time() == 15.0);
  // Client 0's second task (t 20): released, client 0 out again (t 30, after client 1's t 30
  // by seq), and client 1's t 30 task now blocks.
  step = answer(*f.loop, step.send[0], {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.steps[0].record.sim_time_s == 20.0);
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].finish == 30.0);
  CHECK(f.loop->sim_time() == 20.0);
}

TEST_CASE("async_loop gauges count tasks in flight, held answers and model versions",
          "[protocol]") {
  auto sc = async_scenario(3, 1, 3, 1);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  // As above: tasks take 10, 15, 40 simulated seconds.
  async_fixture f(sc, {1, 2}, samples_of({10, 15, 40}));
  auto gauges_are = [&](uint32_t in_flight, uint32_t held, uint32_t versions) {
    const auto g = f.loop->gauges();
    CHECK(g.in_flight == in_flight);
    CHECK(g.held == held);
    CHECK(g.model_versions == versions);
    CHECK(g.groups == 0);
    CHECK(g.busy_clients == in_flight);
  };
  gauges_are(0, 0, 0);
  auto start = f.loop->start();
  gauges_are(3, 0, 1);
  answer(*f.loop, of_client(start.send, 2), {1, 1}, 40);
  gauges_are(3, 1, 1);  // client 2's answer waits for the earlier finishes
  answer(*f.loop, of_client(start.send, 1), {2, 0}, 15);
  gauges_are(3, 2, 1);
  auto step = answer(*f.loop, of_client(start.send, 0), {0, 2}, 10);
  REQUIRE(step.steps.size() == 2);
  // Client 2 (version 0, held), client 0 again (version 1), client 1 again (version 2).
  gauges_are(3, 1, 3);
  // Each record carries the gauges right after its step: step 1 released client 0 (its slot
  // is refilled at version 1 after the record; clients 1 and 2 still held), step 2 released
  // client 1 (client 0 in flight again at version 1, client 2 held).
  CHECK(step.steps[0].record.gauges.in_flight == 2);
  CHECK(step.steps[0].record.gauges.held == 2);
  CHECK(step.steps[0].record.gauges.model_versions == 1);
  CHECK(step.steps[1].record.gauges.in_flight == 2);
  CHECK(step.steps[1].record.gauges.held == 1);
  CHECK(step.steps[1].record.gauges.model_versions == 2);
  // Client 0's task at t 20 released (step 3): the version-1 model is no longer kept, client 0
  // goes out again at version 3 (versions 0, 2, 3).
  step = answer(*f.loop, step.send[0], {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.send.at(0).base_version == 3);
  gauges_are(3, 1, 3);
}

TEST_CASE("async_loop under the simulated clock gives the same run for any answer order",
          "[protocol]") {
  const auto sc = decayed_simulated(6);
  for (const auto& kind : server_optimizer_kinds()) {
    CAPTURE(kind);
    const auto first_sent = run_with(sc, kind, [](const auto&) { return size_t{0}; });
    const auto last_sent = run_with(sc, kind, [](const auto& p) { return p.size() - 1; });
    const auto middle = run_with(sc, kind, [](const auto& p) { return p.size() / 2; });
    CHECK(first_sent == last_sent);
    CHECK(first_sent == middle);
  }
}

TEST_CASE("async_loop ends the run after async.aggregations steps", "[protocol]") {
  async_fixture f(async_scenario(3, 1, 3, 1, 2), {1, 2}, ten_each());
  auto start = f.loop->start();
  auto step = answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK_FALSE(step.finished);
  step = answer(*f.loop, of_client(start.send, 1), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.finished);
  CHECK(step.send.empty());  // no refill once the run is over
  CHECK(f.loop->finished());
  CHECK(f.loop->steps_done() == 2);
  CHECK(f.loop->version() == 2);
  // Every later event changes nothing.
  step = answer(*f.loop, of_client(start.send, 2), {1, 1}, 10);
  CHECK(step.steps.empty());
  CHECK(step.send.empty());
  CHECK(f.loop->failed(of_client(start.send, 2).seq, 0, failure_code::timeout, "x").send.empty());
  REQUIRE(f.edges->lose(0));
  CHECK(f.loop->edge_lost(0).send.empty());
  CHECK(f.loop->edge_rejoined(0).send.empty());
  CHECK(f.loop->version() == 2);
  CHECK(*f.loop->model() == std::vector<float>{3, 4});
}

TEST_CASE("async_loop stop abandons the tasks in flight and keeps the last step's model",
          "[protocol]") {
  // 4 clients in flight, buffer 2.
  async_fixture f(async_scenario(4, 1, 4, 2), {1, 2}, samples_of({10, 30, 20, 20}));
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 4);
  answer(*f.loop, of_client(start.send, 0), {1, -2}, 10, 0.5);
  auto step = answer(*f.loop, of_client(start.send, 1), {3, 2}, 30, 1.5);
  REQUIRE(step.steps.size() == 1);
  const std::vector<float> after_step{3.5f, 3.0f};
  // Client 2's update is in the buffer, not yet stepped, when the stop comes.
  step = answer(*f.loop, of_client(start.send, 2), {5, 5}, 20, 1.0);
  CHECK(step.steps.empty());
  CHECK(f.loop->buffer_stats().buffered == 1);
  const auto in_flight = f.loop->in_flight();
  CHECK(in_flight == 4);  // client 3 and the refills of clients 0, 1 and 2
  CHECK(f.loop->stop());
  CHECK(f.loop->stopped());
  CHECK(f.loop->finished());
  CHECK(f.loop->steps_done() == 1);
  CHECK(f.loop->version() == 1);
  CHECK(*f.loop->model() == after_step);
  // The tasks in flight stay recorded; their answers change nothing and nothing is refilled.
  CHECK(f.loop->in_flight() == in_flight);
  step = answer(*f.loop, of_client(start.send, 3), {7, 7}, 20, 1.0);
  CHECK(step.send.empty());
  CHECK(step.steps.empty());
  CHECK_FALSE(step.finished);
  CHECK(f.loop->failed(of_client(start.send, 3).seq, 0, failure_code::timeout, "x").send.empty());
  REQUIRE(f.edges->lose(0));
  CHECK(f.loop->edge_lost(0).send.empty());
  CHECK(f.loop->edge_rejoined(0).send.empty());
  CHECK(f.loop->in_flight() == in_flight);
  CHECK(*f.loop->model() == after_step);
  CHECK(f.loop->totals().clients_trained == 2);
  CHECK_FALSE(f.loop->stop());
}

TEST_CASE("async_loop stop after the last step is refused", "[protocol]") {
  async_fixture f(async_scenario(3, 1, 3, 1, 1), {1, 2}, ten_each());
  auto start = f.loop->start();
  auto step = answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  REQUIRE(step.finished);
  CHECK_FALSE(f.loop->stop());
  CHECK_FALSE(f.loop->stopped());
}

// -- pre-aggregation -------------------------------------------------------------------------

namespace {

scenario preaggregating(scenario sc, uint32_t group_size) {
  sc.async.edge = edge_mode::preaggregate;
  sc.async.preaggregate = group_size;
  return sc;
}

// The carrier's answer: the group's aggregate of `terms` (Δ against the base model, weight =
// samples) naming `members`.
async_step carry(async_loop& loop, const async_task& t, const std::vector<term>& terms,
                 std::vector<uint64_t> members) {
  return loop.answered(t.seq, t.attempt, t.client,
                       task_group{aggregate_of(2, terms), std::move(members), 0});
}

async_step held(async_loop& loop, const async_task& t) {
  return loop.answered(t.seq, t.attempt, t.client, task_held{});
}

}  // namespace

TEST_CASE("async_loop puts tasks into groups per edge and closes a group when it is full",
          "[protocol]") {
  async_fixture f(preaggregating(async_scenario(4, 1, 4, 4), 2), {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 4);
  CHECK(start.send[0].group == 1);
  CHECK(start.send[1].group == 1);
  CHECK(start.send[2].group == 2);
  CHECK(start.send[3].group == 2);
  for (const auto& t : start.send) CHECK_FALSE(t.group_params);
  REQUIRE(start.close.size() == 2);
  CHECK(start.close[0].edge == 0);
  CHECK(start.close[0].group == 1);
  CHECK(start.close[0].size == 2);
  CHECK(start.close[1].group == 2);
  CHECK(start.close[1].size == 2);
}

TEST_CASE("async_loop folds a group aggregate with its members' weight", "[protocol]") {
  // Clients 0 and 1 (10 and 30 samples) in one group.
  async_fixture f(preaggregating(async_scenario(2, 1, 2, 2), 2), {1, 2}, samples_of({10, 30}));
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 2);
  REQUIRE(start.close.size() == 1);
  const auto& a = start.send[0];
  const auto& b = start.send[1];
  const auto& ta = a.client == 0 ? term{{1, -2}, 10, 0.5} : term{{3, 2}, 30, 1.5};
  const auto& tb = b.client == 0 ? term{{1, -2}, 10, 0.5} : term{{3, 2}, 30, 1.5};
  async_step step;
  SECTION("held first, then the aggregate") {
    step = held(*f.loop, a);
    CHECK(step.steps.empty());
    REQUIRE(step.send.size() == 1);  // the held member's slot is free
    step = carry(*f.loop, b, {ta, tb}, {a.seq, b.seq});
  }
  SECTION("the aggregate first; the held answer that follows changes nothing") {
    step = carry(*f.loop, b, {ta, tb}, {a.seq, b.seq});
    CHECK(f.loop->in_flight() == 2);  // both members' slots refilled
    auto late = held(*f.loop, a);
    CHECK(late.send.empty());
    CHECK(late.steps.empty());
  }
  REQUIRE(f.loop->steps_done() == 1);
  // mean Δ = ((10 + 90) / 40, (-20 + 60) / 40) = (2.5, 1): (3.5, 3); the group counts 2.
  CHECK(*f.loop->model() == std::vector<float>{3.5f, 3.0f});
  CHECK(f.loop->totals().clients_trained == 2);
  CHECK(f.loop->totals().failures.total() == 0);
  CHECK(f.loop->totals().final_loss == 1.25);
}

TEST_CASE("async_loop closes an open group when the version moves on", "[protocol]") {
  // 5 clients over 2 edges: edge 0 serves 0, 1; edge 1 serves 2, 3, 4. Groups of 3.
  async_fixture f(preaggregating(async_scenario(5, 2, 5, 3), 3), {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 5);
  // Edge 1's group is full (closed); edge 0's holds 2 and stays open.
  REQUIRE(start.close.size() == 1);
  CHECK(start.close[0].edge == 1);
  CHECK(start.close[0].size == 3);
  const auto& t2 = of_client(start.send, 2);
  const auto& t3 = of_client(start.send, 3);
  const auto& t4 = of_client(start.send, 4);
  const uint64_t edge0_group = of_client(start.send, 0).group;
  CHECK(of_client(start.send, 1).group == edge0_group);
  held(*f.loop, t2);
  held(*f.loop, t3);
  // Edge 1's aggregate (3 updates) fills the buffer: version 1, and edge 0's group (base 0)
  // closes with its 2 members.
  const term d{{1, 1}, 10, 0};
  auto step = carry(*f.loop, t4, {d, d, d}, {t2.seq, t3.seq, t4.seq});
  REQUIRE(step.steps.size() == 1);
  bool closed = false;
  for (const auto& c : step.close)
    if (c.group == edge0_group) {
      closed = true;
      CHECK(c.edge == 0);
      CHECK(c.size == 2);
    }
  CHECK(closed);
  // The refilled tasks of edge 1 form a new group from version 1.
  for (const auto& t : step.send) {
    CHECK(t.group != edge0_group);
    CHECK(t.base_version == 1);
  }
}

TEST_CASE("async_loop closes a group that every result waits for", "[protocol]") {
  auto sc = preaggregating(async_scenario(2, 1, 2, 2), 5);
  SECTION("real clock: every task in flight sits in an open group") {}
  SECTION("simulated clock: the task the next release waits for sits in an open group") {
    sc.clock = clock_kind::simulated;
    sc.devices = testing::plain_devices(1.0);
  }
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 2);
  REQUIRE(start.close.size() == 1);
  CHECK(start.close[0].group == start.send[0].group);
  CHECK(start.close[0].size == 2);  // not full (5), but nothing could answer otherwise
}

namespace {

// Answers the group of `x` and `y` correctly: x held, y carries both updates (Δ (1, 1) each,
// weight = the registry's samples).
async_step answer_group(async_fixture& f, const async_task& x, const async_task& y) {
  REQUIRE(x.group == y.group);
  held(*f.loop, x);
  const term tx{{1, 1}, static_cast<double>(f.registry->num_samples(x.client)), 0};
  const term ty{{1, 1}, static_cast<double>(f.registry->num_samples(y.client)), 0};
  return carry(*f.loop, y, {tx, ty}, {x.seq, y.seq});
}

}  // namespace

TEST_CASE("async_loop refuses a group aggregate that does not match its dispatched members",
          "[protocol]") {
  // Clients 0 and 1 (10 and 30 samples) in groups of 2, buffer 2.
  async_fixture f(preaggregating(async_scenario(2, 1, 2, 2), 2), {1, 2}, samples_of({10, 30}));
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 2);
  const auto a = start.send[0];
  const auto b = start.send[1];
  std::vector<term> terms{{{1, 1}, static_cast<double>(f.registry->num_samples(a.client)), 0},
                          {{1, 1}, static_cast<double>(f.registry->num_samples(b.client)), 0}};
  std::vector<uint64_t> members{a.seq, b.seq};
  std::vector<char> bytes;
  std::string named = "2";
  SECTION("a weight other than the members' samples") {
    terms[1].weight += 1;
  }
  SECTION("a member that is not the group's") {
    members[0] = 99;
  }
  SECTION("a member named twice") {
    members[0] = b.seq;
  }
  SECTION("more members than were dispatched") {
    members.push_back(a.seq);
    named = "3";
  }
  SECTION("a count other than the members named") {
    terms = {{{1, 1}, 40, 0}};
  }
  SECTION("no member named") {
    members.clear();
    named = "0";
  }
  SECTION("malformed bytes") {
    bytes = {'x'};
  }
  if (bytes.empty()) bytes = aggregate_of(2, terms);
  // The held member answers first (its slot is refilled into a new group), then the carrier's
  // aggregate is refused (its slot too: the new group is full).
  auto step = held(*f.loop, a);
  REQUIRE(step.send.size() == 1);
  const auto a2 = step.send[0];
  const auto before = answer_refusal_counts();
  step = f.loop->answered(b.seq, b.attempt, b.client, task_group{bytes, members, 0});
  CHECK(step.steps.empty());
  CHECK(f.loop->version() == 0);
  REQUIRE(step.send.size() == 1);
  const auto b2 = step.send[0];
  // Counted as group_mismatch and listed with the edge that sent it.
  const auto gm = static_cast<size_t>(answer_refusal::group_mismatch);
  CHECK(answer_refusal_counts()[gm] == before[gm] + 1);
  CHECK(answer_refusals_total() == std::accumulate(before.begin(), before.end(), uint64_t{0}) + 1);
  REQUIRE(step.refused.size() == 1);
  CHECK(step.refused[0].edge == b.edge);
  CHECK(step.refused[0].what == "edge " + std::to_string(b.edge) + ", task " +
                                    std::to_string(b.seq) + ", client " + std::to_string(b.client) +
                                    ": group aggregate that does not match its members (" + named +
                                    " named) (group_mismatch)");
  // The next group answers correctly: a step that counts the refused group's two members.
  step = answer_group(f, a2, b2);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 2);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 2);
  CHECK(rec.failures == 2);
  REQUIRE(rec.failure_reasons.size() == 2);
  CHECK(rec.failure_reasons[0] == "client " + std::to_string(b.client) +
                                      ": group aggregate that does not match its members (" +
                                      named + " named)");
  CHECK(*f.loop->model() == std::vector<float>{2, 3});  // only the second group moved it
}

TEST_CASE("async_loop counts the members of a refused group aggregate that answer after it",
          "[protocol]") {
  async_fixture f(preaggregating(async_scenario(2, 1, 2, 2), 2), {1, 2}, samples_of({10, 30}));
  auto start = f.loop->start();
  const auto a = start.send[0];
  const auto b = start.send[1];
  const term ta{{1, 1}, static_cast<double>(f.registry->num_samples(a.client)), 0};
  const term tb{{1, 1}, static_cast<double>(f.registry->num_samples(b.client)), 0};
  // The aggregate comes first and names a task that is not the group's: refused, and member a
  // is still the group's (nothing of it was accepted).
  auto step = carry(*f.loop, b, {ta, tb}, {a.seq, 99});
  REQUIRE(step.send.size() == 1);
  const auto b2 = step.send[0];
  // a's held answer: its update was in the refused aggregate.
  step = held(*f.loop, a);
  REQUIRE(step.send.size() == 1);
  const auto a2 = step.send[0];
  step = answer_group(f, a2, b2);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.steps[0].record.clients == 2);
  CHECK(step.steps[0].record.failures_by.of(failure_code::invalid_update) == 2);
}

TEST_CASE("async_loop counts held members of a lost edge's group as edge_lost", "[protocol]") {
  // 4 clients over 2 edges (0, 1 at edge 0; 2, 3 at edge 1), groups of 2, buffer 2.
  async_fixture f(preaggregating(async_scenario(4, 2, 4, 2), 2), {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 4);
  const auto t0 = of_client(start.send, 0);
  const auto t1 = of_client(start.send, 1);
  const auto t2 = of_client(start.send, 2);
  const auto t3 = of_client(start.send, 3);
  // Client 2 answered held: its update waits in edge 1's group, which is lost with it. Its
  // slot went to its next task, at edge 1 too.
  auto step = held(*f.loop, t2);
  REQUIRE(step.send.size() == 1);
  const auto t2_next = step.send[0];
  CHECK(t2_next.edge == 1);
  REQUIRE(f.edges->lose(1));
  auto lost = f.loop->edge_lost(1);
  // The unanswered tasks (client 3's, client 2's next) go to edge 0 as forwarded updates;
  // client 2's held task is not resent.
  REQUIRE(lost.send.size() == 2);
  for (const auto& t : lost.send) {
    CHECK((t.seq == t3.seq || t.seq == t2_next.seq));
    CHECK(t.attempt == 1);
    CHECK(t.group == 0);
    CHECK(t.edge == 0);
  }
  // Edge 0's group: a step of 2 updates that counts client 2 as edge_lost.
  step = answer_group(f, t0, t1);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 2);
  CHECK(rec.failures_by.of(failure_code::edge_lost) == 1);
  CHECK(rec.failures == 1);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client 2: edge 1 lost before its group's aggregate"});
  CHECK(rec.edges_lost == 1);
  CHECK(rec.rerouted == 2);
}

TEST_CASE(
    "async_loop under the simulated clock counts a lost edge's held-back aggregate as "
    "edge_lost",
    "[protocol]") {
  // 4 clients over 2 edges (0, 1 at edge 0; 2, 3 at edge 1), groups of 2, buffer 2; client c
  // takes 100, 130, 110, 120 simulated seconds, so every task sent again finishes after 200,
  // past all four.
  auto sc = preaggregating(async_scenario(4, 2, 4, 2), 2);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  async_fixture f(sc, {1, 2}, samples_of({100, 130, 110, 120}));
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 4);
  const auto t0 = of_client(start.send, 0);
  const auto t1 = of_client(start.send, 1);
  const auto t2 = of_client(start.send, 2);
  const auto t3 = of_client(start.send, 3);
  REQUIRE(t2.group == t3.group);
  // Client 3 (t 120) carries edge 1's aggregate; it is held back behind client 0 (t 100).
  auto step = carry(*f.loop, t3, {{{1, 1}, 110, 0}, {{1, 1}, 120, 0}}, {t2.seq, t3.seq});
  CHECK(step.steps.empty());
  // Edge 1 is lost: client 2 (not in yet) goes to edge 0 as a forwarded update; client 3's
  // answer is in and stays, but its group went with the edge.
  REQUIRE(f.edges->lose(1));
  step = f.loop->edge_lost(1);
  REQUIRE(step.send.size() == 1);
  const auto t2b = step.send[0];
  CHECK(t2b.seq == t2.seq);
  CHECK(t2b.attempt == 1);
  CHECK(t2b.group == 0);
  CHECK(t2b.edge == 0);
  // Released in order: client 0 held (t 100), client 2's update (t 110, buffered), client 3's
  // aggregate (t 120: edge_lost, client 2 was retrained apart), client 1 carrying edge 0's
  // group (t 130): 1 + 2 updates, one step.
  held(*f.loop, t0);
  step = answer(*f.loop, t2b, {1, 1}, 110);
  CHECK(step.steps.empty());
  step = carry(*f.loop, t1, {{{1, 1}, 100, 0}, {{1, 1}, 130, 0}}, {t0.seq, t1.seq});
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 3);
  CHECK(rec.sim_time_s == 130.0);
  CHECK(rec.failures_by.of(failure_code::edge_lost) == 1);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 0);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client 3: edge 1 lost before its group's aggregate"});
  CHECK(rec.edges_lost == 1);
  // The resent task, and the next tasks of clients 2 and 3 (edge 0 now serves them).
  CHECK(rec.rerouted == 3);
  // Every update moved by (1, 1) from version 0.
  CHECK(*f.loop->model() == std::vector<float>{2, 3});
}

TEST_CASE("async_loop counts every member of a group aggregate the buffer rejects", "[protocol]") {
  async_fixture f(preaggregating(async_scenario(2, 1, 2, 2), 2), {1, 2}, samples_of({10, 30}));
  auto start = f.loop->start();
  const auto a = start.send[0];
  const auto b = start.send[1];
  const double na = f.registry->num_samples(a.client);
  const double nb = f.registry->num_samples(b.client);
  // Members and weight fit, but the aggregate has 3 values, the model 2: the buffer rejects
  // it, and both members' updates are lost with it.
  auto step = held(*f.loop, a);
  REQUIRE(step.send.size() == 1);
  const auto a2 = step.send[0];
  step = f.loop->answered(
      b.seq, b.attempt, b.client,
      task_group{aggregate_of(3, {{{1, 1, 1}, na, 0}, {{1, 1, 1}, nb, 0}}), {a.seq, b.seq}, 0});
  CHECK(step.steps.empty());
  REQUIRE(step.send.size() == 1);
  const auto b2 = step.send[0];
  step = answer_group(f, a2, b2);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 2);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 2);
  CHECK(rec.failure_reasons == std::vector<std::string>{"client " + std::to_string(b.client) +
                                                        ": rejected group aggregate"});
  CHECK(f.loop->totals().rejected_updates == 2);  // the buffer's count agrees
}

// -- checkpoints ---------------------------------------------------------------------------

namespace {

// run_with's run, with checkpoints every `every` steps and every task numbered 2 mod 5 failing
// (client_error); the steps' trace lines and
// the checkpoints handed out. With `from`, the loop first continues from that state.
struct resumable_run {
  std::vector<std::string> lines;
  std::vector<std::shared_ptr<loop_checkpoint>> checkpoints;
  uint32_t went_offline = 0;  // over the steps' records
};

// The run of `sc` answered in `pick`'s order, with a checkpoint every `every` steps, resumed
// from `from` if given; stop_after > 0: stopped after that many answers, its last checkpoint
// the stop's.
resumable_run run_checkpointed(const scenario& sc,
                               const std::function<size_t(const std::vector<async_task>&)>& pick,
                               uint32_t every, const loop_checkpoint* from = nullptr,
                               size_t stop_after = 0) {
  async_fixture f(
      sc, {0.5f, -0.25f}, [](client_id id) { return 20 + 7 * (id % 5); }, "fedadam");
  f.loop->checkpoint_every(every);
  if (from) f.loop->load_state(decode_async_state(from->state, "ck"));
  driver d;
  resumable_run out;
  auto take = [&](async_step s) {
    if (s.checkpoint) out.checkpoints.push_back(s.checkpoint);
    d.take(std::move(s));
  };
  take(f.loop->start());
  size_t answers = 0;
  while (!d.finished && !d.pending.empty() && answers < 10000) {
    auto t = d.pop(pick(d.pending));
    if (t.seq % 5 == 2) {
      take(f.loop->failed(t.seq, t.attempt, failure_code::client_error, "boom"));
    } else {
      const float s = static_cast<float>(t.client + 1) / 4;
      take(answer(*f.loop, t, {s, -s}, f.registry->num_samples(t.client), t.client / 8.0));
    }
    ++answers;
    if (answers == stop_after) {
      REQUIRE(f.loop->stop());
      auto ck = f.loop->take_stop_checkpoint();
      REQUIRE(ck);
      CHECK_FALSE(f.loop->take_stop_checkpoint());  // handed out once
      out.checkpoints.push_back(std::move(ck));
      return out;
    }
  }
  REQUIRE(d.finished);
  // (A failure counts in the record of the step during which it is reported, which depends on
  // the answer order, with or without a resume: failure counts are not part of the trace.)
  std::istringstream lines(trace(d));
  for (std::string line; std::getline(lines, line);) out.lines.push_back(line);
  for (const auto& st : d.steps) out.went_offline += st.record.went_offline;
  return out;
}

}  // namespace

TEST_CASE("async_loop resumed from a checkpoint continues as the uninterrupted run", "[protocol]") {
  // Simulated clock: the tasks in flight at a checkpoint are resent, those that had failed
  // wait for their release; whatever order the answers then come in, the steps after the
  // checkpoint are the uninterrupted run's, bit for bit.
  const auto sc = decayed_simulated(9);
  const auto first = [](const auto&) { return size_t{0}; };
  const auto last = [](const auto& p) { return p.size() - 1; };
  // Answered newest first: a failed task waits behind earlier ones still running.
  const auto full = run_checkpointed(sc, last, 2);
  REQUIRE(full.lines.size() == 9);
  // The start (step 0), after steps 2, 4, 6, 8 and the last, 9; two steps released by one
  // answer hand out only the later checkpoint.
  REQUIRE(full.checkpoints.size() >= 4);
  CHECK(full.checkpoints.front()->round == 0);
  for (const auto& ck : full.checkpoints) CHECK((ck->round % 2 == 0 || ck->round == 9));
  CHECK(full.checkpoints.back()->round == 9);
  CHECK(full.checkpoints.back()->finished);
  bool any_failed_in_flight = false;
  for (size_t c = 0; c + 1 < full.checkpoints.size(); ++c) {
    const auto& ck = *full.checkpoints[c];
    CAPTURE(ck.round);
    const auto state = decode_async_state(ck.state, "ck");
    CHECK(state.steps_done == ck.round);
    CHECK(state.tasks.empty() == (ck.round == 0));  // resumed from step 0: a fresh start
    for (const auto& t : state.tasks) any_failed_in_flight = any_failed_in_flight || t.cancelled;
    const auto resumed = run_checkpointed(sc, first, 2, &ck);
    const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
    CHECK(resumed.lines == rest);
  }
  CHECK(any_failed_in_flight);
}

TEST_CASE("async_loop stopped mid-buffer leaves a checkpoint that resumes as the uninterrupted run",
          "[protocol]") {
  // Simulated clock: a stop between any two answers checkpoints the buffer as filled so far
  // and the tasks in flight; resumed, the steps are the uninterrupted run's, bit for bit.
  const auto sc = decayed_simulated(9);
  const auto first = [](const auto&) { return size_t{0}; };
  const auto last = [](const auto& p) { return p.size() - 1; };
  const auto full = run_checkpointed(sc, last, 2);
  REQUIRE(full.lines.size() == 9);
  bool mid_buffer = false;
  for (size_t stop_after : {1, 3, 6, 10, 15}) {
    CAPTURE(stop_after);
    const auto stopped = run_checkpointed(sc, last, 2, nullptr, stop_after);
    const auto& ck = *stopped.checkpoints.back();
    CHECK_FALSE(ck.finished);
    const auto state = decode_async_state(ck.state, "ck");
    CHECK(state.steps_done == ck.round);
    CHECK_FALSE(state.finished);
    CHECK_FALSE(state.tasks.empty());
    // Updates folded since the last step are in the checkpoint's buffer.
    // (total_updates counts folded updates: 2 per step done, plus those in the buffer.)
    mid_buffer = mid_buffer || state.totals.total_updates > ck.round * 2;
    const auto resumed = run_checkpointed(sc, first, 2, &ck);
    const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
    CHECK(resumed.lines == rest);
  }
  CHECK(mid_buffer);
  // Without periodic checkpoints a stop leaves none.
  async_fixture g(sc, {0.5f, -0.25f}, ten_each(), "fedadam");
  g.loop->checkpoint_every(0);
  g.loop->start();
  CHECK(g.loop->stop());
  CHECK_FALSE(g.loop->take_stop_checkpoint());
}

TEST_CASE(
    "async_loop with an adaptive norm bound and a robust rule resumes as the uninterrupted run",
    "[protocol][robust]") {
  // The adaptive bound (and with a rule, the held updates) travel in the buffer's bytes: a
  // periodic checkpoint or a stop mid-buffer resumes with the same bounds and models.
  // Client c's Δ = (c+1)/4 · (1, -1), norms 0.35 to 2.8 from a first bound of 1.
  auto sc = decayed_simulated(9);
  sc.robust.norm_bound.bound = 1.0;
  sc.robust.norm_bound.target_quantile = 0.5;
  sc.robust.norm_bound.lr = 0.3;
  const auto first = [](const auto&) { return size_t{0}; };
  const auto last = [](const auto& p) { return p.size() - 1; };
  for (auto mode : {norm_bound_mode::clip, norm_bound_mode::reject}) {
    for (auto rule : {robust_rule_kind::mean, robust_rule_kind::median}) {
      sc.robust.norm_bound.mode = mode;
      sc.robust.rule = rule;
      CAPTURE(to_string(mode), to_string(rule));
      const auto full = run_checkpointed(sc, last, 2);
      REQUIRE(full.lines.size() == 9);
      // The bound moved: the records' bounds are not all the first one.
      CHECK(full.lines.front().find(" b" + std::to_string(bits_of(1.0)) + " ") !=
            std::string::npos);
      CHECK(full.lines.back().find(" b" + std::to_string(bits_of(1.0)) + " ") == std::string::npos);
      for (size_t c = 1; c + 1 < full.checkpoints.size(); ++c) {
        const auto& ck = *full.checkpoints[c];
        CAPTURE(ck.round);
        const auto resumed = run_checkpointed(sc, first, 2, &ck);
        const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
        CHECK(resumed.lines == rest);
      }
      for (size_t stop_after : {3, 7, 12}) {
        CAPTURE(stop_after);
        const auto stopped = run_checkpointed(sc, last, 2, nullptr, stop_after);
        const auto& ck = *stopped.checkpoints.back();
        const auto resumed = run_checkpointed(sc, first, 2, &ck);
        const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
        CHECK(resumed.lines == rest);
      }
    }
  }
}

TEST_CASE("async_loop refuses an update above the norm bound as invalid_update and counts it",
          "[protocol][robust]") {
  // Buffer 2, fixed bound 1 (reject): client answers with Δ (3, 4) are refused, (0.375, 0.5)
  // fold.
  auto sc = async_scenario(4, 1, 2, 2, 1);
  sc.robust.norm_bound.mode = norm_bound_mode::reject;
  sc.robust.norm_bound.bound = 1.0;
  async_fixture f(sc, {0, 0}, ten_each());
  driver d;
  d.take(f.loop->start());
  REQUIRE(d.pending.size() == 2);
  d.take(answer(*f.loop, d.pop(0), {3, 4}, 10));
  CHECK(f.loop->totals().norm_rejected == 1);
  CHECK(f.loop->buffer_stats().buffered == 0);
  for (int i = 0; i < 10 && !d.finished && !d.pending.empty(); ++i)
    d.take(answer(*f.loop, d.pop(0), {0.375f, 0.5f}, 10));  // norm 0.625
  REQUIRE(d.finished);
  REQUIRE(d.steps.size() == 1);
  const auto& rec = d.steps[0].record;
  CHECK(rec.norm_bound == 1.0);
  CHECK(rec.norm_rejected == 1);
  CHECK(rec.norm_clipped == 0);
  CHECK(rec.failures_by.of(failure_code::invalid_update) == 1);
  REQUIRE(rec.failure_reasons.size() == 1);
  CHECK(rec.failure_reasons[0].find("rejected update: norm above the bound 1") !=
        std::string::npos);
  CHECK(*d.steps[0].model == std::vector<float>{0.375f, 0.5f});
  CHECK(f.loop->totals().norm_rejected == 1);
}

TEST_CASE(
    "async_loop under the real clock stopped mid-buffer: no accepted update lost or applied "
    "twice",
    "[protocol]") {
  // Real clock: the updates folded before the stop are in its checkpoint's buffer and the
  // tasks not answered are resent; every update is folded exactly once over both runs.
  auto sc = async_scenario(12, 2, 5, 3, 4);
  sc.async.staleness_threshold = 20;  // nothing discarded
  async_fixture a(sc, {0.5f, -0.25f}, ten_each(), "fedavgm");
  a.loop->checkpoint_every(2);
  driver d;
  d.take(a.loop->start());
  std::vector<uint64_t> answered;
  // Four answers: one step (3 updates) and one update in the buffer.
  for (int i = 0; i < 4; ++i) {
    auto t = d.pop(d.pending.size() / 2);
    answered.push_back(t.seq);
    d.take(answer(*a.loop, t, {1, 1}, 10));
  }
  REQUIRE(a.loop->steps_done() == 1);
  REQUIRE(a.loop->stop());
  auto ck = a.loop->take_stop_checkpoint();
  REQUIRE(ck);
  CHECK(ck->round == 1);
  const auto state = decode_async_state(ck->state, "ck");
  CHECK(state.steps_done == 1);
  std::vector<uint64_t> expected_resend;
  for (uint64_t seq = 0; seq < state.next_seq; ++seq)
    if (std::find(answered.begin(), answered.end(), seq) == answered.end())
      expected_resend.push_back(seq);
  CHECK(state.tasks.size() == expected_resend.size());

  async_fixture b(sc, {0.5f, -0.25f}, ten_each(), "fedavgm");
  b.loop->load_state(state);
  driver e;
  auto first = b.loop->start();
  std::vector<uint64_t> resent;
  for (const auto& t : first.send) resent.push_back(t.seq);
  CHECK(resent == expected_resend);
  e.take(std::move(first));
  while (!e.finished && !e.pending.empty()) e.take(answer(*b.loop, e.pop(0), {1, 1}, 10));
  REQUIRE(e.finished);
  // Step 2 folds the update buffered before the stop and two after it.
  CHECK(b.loop->version() == 4);
  CHECK(b.loop->totals().total_updates == 4 * 3);
  CHECK(b.loop->totals().clients_trained == 4 * 3);
}

TEST_CASE("async_loop resumed from the checkpoint at the end has nothing to do", "[protocol]") {
  auto sc = async_scenario(8, 2, 4, 2, 3);
  sc.clock = clock_kind::simulated;
  const auto full = run_checkpointed(
      sc, [](const auto&) { return size_t{0}; }, 0);
  REQUIRE(full.checkpoints.size() == 1);
  CHECK(full.checkpoints[0]->finished);
  async_fixture f(
      sc, {0.5f, -0.25f}, [](client_id id) { return 20 + 7 * (id % 5); }, "fedadam");
  f.loop->load_state(decode_async_state(full.checkpoints[0]->state, "ck"));
  CHECK(f.loop->finished());
  CHECK(f.loop->steps_done() == 3);
  const auto step = f.loop->start();
  CHECK(step.send.empty());
  CHECK(step.steps.empty());
  // The tasks still in flight at the end are abandoned, not resent: such a checkpoint loads
  // even where tasks in flight could not be resumed (pre-aggregating edges).
  CHECK_FALSE(decode_async_state(full.checkpoints[0]->state, "ck").tasks.empty());
  auto pre = sc;
  pre.async.edge = edge_mode::preaggregate;
  async_fixture g(
      pre, {0.5f, -0.25f}, [](client_id id) { return 20 + 7 * (id % 5); }, "fedadam");
  g.loop->load_state(decode_async_state(full.checkpoints[0]->state, "ck"));
  CHECK(g.loop->finished());
  CHECK(g.loop->in_flight() == 0);
  CHECK(g.loop->start().send.empty());
}

TEST_CASE("async_loop under the real clock resumed: no accepted update lost or applied twice",
          "[protocol]") {
  // Real clock: answers are processed as they come. At the checkpoint (right after step 2),
  // the updates folded so far are in the saved model and buffer; every task dispatched before
  // it and not yet answered is resent on resume, and no answered one is.
  auto sc = async_scenario(12, 2, 5, 3, 6);
  sc.async.staleness_threshold = 20;  // nothing discarded: every answered update is folded
  async_fixture a(sc, {0.5f, -0.25f}, ten_each(), "fedavgm");
  a.loop->checkpoint_every(2);
  driver d;
  std::vector<uint64_t> answered;
  std::shared_ptr<loop_checkpoint> ck;
  std::vector<uint64_t> answered_at_ck;
  d.take(a.loop->start());
  while (!ck && !d.pending.empty()) {
    // Answers in a scrambled order: the middle pending task each time.
    auto t = d.pop(d.pending.size() / 2);
    auto s = answer(*a.loop, t, {1, 1}, 10);
    answered.push_back(t.seq);
    if (s.checkpoint) {
      ck = s.checkpoint;
      answered_at_ck = answered;
    }
    d.take(std::move(s));
  }
  REQUIRE(ck);
  const auto state = decode_async_state(ck->state, "ck");
  CHECK(state.steps_done == 2);
  CHECK(state.totals.total_updates == 6);  // two steps of buffer_size 3, all folded
  std::vector<uint64_t> expected_resend;
  for (uint64_t seq = 0; seq < state.next_seq; ++seq)
    if (std::find(answered_at_ck.begin(), answered_at_ck.end(), seq) == answered_at_ck.end())
      expected_resend.push_back(seq);

  async_fixture b(sc, {0.5f, -0.25f}, ten_each(), "fedavgm");
  b.loop->load_state(state);
  driver e;
  auto first = b.loop->start();
  std::vector<uint64_t> resent;
  for (const auto& t : first.send)
    if (t.seq < state.next_seq) resent.push_back(t.seq);
  CHECK(resent == expected_resend);
  CHECK(first.send.size() == 5);  // the concurrency slots are full again
  e.take(std::move(first));
  while (!e.finished && !e.pending.empty()) {
    auto t = e.pop(0);
    e.take(answer(*b.loop, t, {1, 1}, 10));
  }
  REQUIRE(e.finished);
  CHECK(b.loop->version() == 6);
  CHECK(b.loop->totals().total_updates == 6 * 3);
  CHECK(b.loop->totals().clients_trained == 6 * 3);
  CHECK(b.loop->totals().stale_updates == 0);
}

// -- scripted events -----------------------------------------------------------------------

namespace {

scenario_event step_event(uint32_t step, event_kind kind) {
  scenario_event e;
  e.trigger = event_trigger::step;
  e.count = step;
  e.kind = kind;
  return e;
}

scenario_event timed_event(double at, event_kind kind) {
  scenario_event e;
  e.trigger = event_trigger::at;
  e.at = at;
  e.kind = kind;
  return e;
}

scenario_event ids(scenario_event e, uint64_t from, uint64_t to) {
  e.clients.from = from;
  e.clients.to = to;
  return e;
}

}  // namespace

TEST_CASE("async_loop: edge_down at a step resends the edge's tasks and ignores its answers",
          "[protocol][events]") {
  // 4 clients over 2 edges (0, 1 at edge 0; 2, 3 at edge 1), all 4 in flight; edge 1 goes
  // down when step 2 begins.
  auto sc = async_scenario(4, 2, 4, 2, 3);
  auto down = step_event(2, event_kind::edge_down);
  down.edge = 1;
  sc.events = {down};
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 4);
  // Client 0's slot is refilled at once (by client 0, the only free one).
  CHECK(clients_of(answer(*f.loop, of_client(start.send, 0), {1, 1}, 10).send) ==
        std::vector<uint32_t>{0});
  auto step = answer(*f.loop, of_client(start.send, 1), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.steps[0].record.events.empty());
  CHECK_FALSE(f.edges->alive(1));
  // Clients 2 and 3 resent to edge 0 (attempt 1); client 1 goes out again.
  CHECK(clients_of(step.send) == std::vector<uint32_t>{1, 2, 3});
  const auto resent2 = of_client(step.send, 2);
  const auto resent3 = of_client(step.send, 3);
  CHECK(resent2.attempt == 1);
  CHECK(resent2.edge == 0);
  CHECK(resent3.attempt == 1);
  // The downed edge answers the work it had: ignored.
  auto ignored = answer(*f.loop, of_client(start.send, 2), {5, 5}, 10);
  CHECK(ignored.send.empty());
  CHECK(ignored.steps.empty());
  answer(*f.loop, resent2, {1, 1}, 10);
  step = answer(*f.loop, resent3, {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.clients == 2);
  CHECK(rec.edges_lost == 1);
  // 2 resent, and client 2's next task (dispatched before the step) goes through edge 0.
  CHECK(rec.rerouted == 3);
  REQUIRE(rec.events.size() == 1);
  CHECK(rec.events[0].kind == "edge_down");
  CHECK(rec.events[0].trigger == "step 2");
  CHECK(rec.events[0].changed == 1);
  // Model: (1, 2) + (1, 1) [step 1] + (1, 1) [step 2].
  CHECK(*f.loop->model() == std::vector<float>{3, 4});
}

TEST_CASE("async_loop: clients that leave fail in flight as unavailable and are not picked",
          "[protocol][events]") {
  auto sc = async_scenario(4, 1, 4, 2, 3);
  sc.events = {ids(step_event(2, event_kind::clients_leave), 2, 4)};
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 4);
  auto first = answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  CHECK(clients_of(first.send) == std::vector<uint32_t>{0});  // refilled at once
  auto step = answer(*f.loop, of_client(start.send, 1), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  // Clients 2 and 3 left: their slots stay free (no one else is available); client 1 goes out
  // again.
  CHECK(clients_of(step.send) == std::vector<uint32_t>{1});
  CHECK(f.loop->in_flight() == 2);
  // Their late answers are ignored.
  CHECK(answer(*f.loop, of_client(start.send, 2), {1, 1}, 10).steps.empty());
  CHECK(answer(*f.loop, of_client(start.send, 3), {1, 1}, 10).steps.empty());
  const std::vector<async_task> again{first.send[0], step.send[0]};
  auto refill = answer(*f.loop, of_client(again, 0), {1, 1}, 10);
  CHECK(clients_of(refill.send) == std::vector<uint32_t>{0});  // never 2 or 3
  step = answer(*f.loop, of_client(again, 1), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.failures_by.of(failure_code::unavailable) == 2);
  CHECK(rec.failures == 2);
  CHECK(rec.failure_reasons ==
        std::vector<std::string>{"client 2: left the federation", "client 3: left the federation"});
  REQUIRE(rec.events.size() == 1);
  CHECK(rec.events[0].kind == "clients_leave");
  CHECK(rec.events[0].target == "ids [2, 4)");
  CHECK(rec.events[0].changed == 2);
  CHECK(clients_of(step.send) == std::vector<uint32_t>{1});
}

TEST_CASE("async_loop under the simulated clock fires an at event before later finishes",
          "[protocol][events]") {
  // Tasks take 10, 15 and 40 s; client 1 leaves at t 12, while its task (t 15) is out.
  auto sc = async_scenario(3, 1, 3, 1, 3);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.events = {ids(timed_event(12, event_kind::clients_leave), 1, 2)};
  async_fixture f(sc, {1, 2}, samples_of({10, 15, 40}));
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 3);
  // Client 1's result is in, but it is released after t 12: dropped.
  CHECK(answer(*f.loop, of_client(start.send, 1), {9, 9}, 15).steps.empty());
  auto step = answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  // Step 1 at t 10; client 0 goes out again (t 20); the event fires at t 12.
  REQUIRE(step.steps.size() == 1);
  CHECK(step.steps[0].record.sim_time_s == 10.0);
  CHECK(step.steps[0].record.events.empty());
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].client == 0);
  CHECK(step.send[0].finish == 20.0);
  CHECK(f.loop->in_flight() == 2);  // clients 0 and 2
  CHECK(f.loop->sim_time() == 12.0);
  step = answer(*f.loop, step.send[0], {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.sim_time_s == 20.0);
  CHECK(rec.failures_by.of(failure_code::unavailable) == 1);
  REQUIRE(rec.events.size() == 1);
  CHECK(rec.events[0].trigger == "at 12");
  CHECK(rec.events[0].sim_time_s == 12.0);
  // (1, 2) + (1, 1) + (1, 1): client 1's update never counted.
  CHECK(*f.loop->model() == std::vector<float>{3, 4});
}

TEST_CASE("async_loop under the simulated clock jumps to the next event when no one can train",
          "[protocol][events]") {
  auto sc = async_scenario(2, 1, 2, 1, 3);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  auto leave = step_event(1, event_kind::clients_leave);
  leave.clients.fraction = 1;
  auto join = timed_event(50, event_kind::clients_join);
  join.clients.fraction = 1;
  sc.events = {leave, join};
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  // Everyone left at t 0; everyone is back at t 50: the first tasks start then.
  REQUIRE(start.send.size() == 2);
  for (const auto& t : start.send) CHECK(t.finish == 60.0);
  CHECK(f.loop->sim_time() == 50.0);
  auto step = answer(*f.loop, start.send[0], {1, 1}, 10);
  step = answer(*f.loop, start.send[1], {1, 1}, 10);
  REQUIRE_FALSE(step.steps.empty());
}

TEST_CASE("async_loop ends the run when no client can train and no event is left",
          "[protocol][events]") {
  auto sc = async_scenario(2, 1, 2, 1, 10);
  auto leave = step_event(2, event_kind::clients_leave);
  leave.clients.fraction = 1;
  sc.events = {leave};
  async_fixture f(sc, {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 2);
  auto step = answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  CHECK(step.send.empty());
  CHECK(step.finished);
  CHECK(f.loop->finished());
  CHECK(f.loop->steps_done() == 1);
}

TEST_CASE("async_loop records each edge's tasks, updates, failures and tasks in flight per step",
          "[protocol]") {
  // 4 clients over 2 edges: 0, 1 at edge 0; 2, 3 at edge 1. All 4 in flight, buffer 4.
  async_fixture f(async_scenario(4, 2, 4, 4), {1, 2}, ten_each());
  auto start = f.loop->start();
  REQUIRE(f.edges->lose(1));
  auto lost = f.loop->edge_lost(1);  // clients 2, 3 resent to edge 0: failed at edge 1
  REQUIRE(lost.send.size() == 2);
  REQUIRE(f.edges->rejoin(1));
  f.loop->edge_rejoined(1);
  answer(*f.loop, of_client(start.send, 0), {1, 1}, 10);  // client 0 again, at edge 0
  answer(*f.loop, of_client(start.send, 1), {1, 1}, 10);  // client 1 again, at edge 0
  answer(*f.loop, of_client(lost.send, 2), {1, 1}, 10);   // client 2 again, home: edge 1
  auto step = answer(*f.loop, of_client(lost.send, 3), {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& rec = step.steps[0].record;
  CHECK(rec.edges_alive == 2);
  REQUIRE(rec.edge_load.size() == 2);
  const auto& e0 = rec.edge_load[0];
  const auto& e1 = rec.edge_load[1];
  CHECK(e0.tasks == 6);  // clients 0, 1; 2, 3 resent; 0, 1 refilled
  CHECK(e0.updates == 4);
  CHECK(e0.failed == 0);
  CHECK(e1.tasks == 3);  // clients 2, 3; 2 refilled
  CHECK(e1.updates == 0);
  CHECK(e1.failed == 2);
  // In flight after the step (before client 3's slot is refilled): 0, 1 at edge 0, 2 at edge 1.
  CHECK(e0.in_flight == 2);
  CHECK(e1.in_flight == 1);
  CHECK(rec.gauges.in_flight == 3);
  CHECK(e0.busy_s == 0.0);  // real clock
  CHECK(e1.busy_s == 0.0);
}

TEST_CASE("async_loop under the simulated clock records the simulated work sent to each edge",
          "[protocol]") {
  auto sc = async_scenario(3, 1, 3, 1);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  // Client c's task takes its sample count in simulated seconds: 10, 15, 40.
  async_fixture f(sc, {1, 2}, samples_of({10, 15, 40}));
  auto start = f.loop->start();
  answer(*f.loop, of_client(start.send, 2), {1, 1}, 40);
  answer(*f.loop, of_client(start.send, 1), {2, 0}, 15);
  auto step = answer(*f.loop, of_client(start.send, 0), {0, 2}, 10);
  REQUIRE(step.steps.size() == 2);
  // Step 1 (t 10): the three first tasks, 10 + 15 + 40 s; client 0 released, 1 and 2 in flight.
  const auto& s1 = step.steps[0].record.edge_load.at(0);
  CHECK(s1.tasks == 3);
  CHECK(s1.busy_s == 65.0);
  CHECK(s1.updates == 1);
  CHECK(s1.in_flight == 2);
  // Step 2 (t 15): client 0 went out again at t 10 (10 s); client 1 released.
  const auto& s2 = step.steps[1].record.edge_load.at(0);
  CHECK(s2.tasks == 1);
  CHECK(s2.busy_s == 10.0);
  CHECK(s2.updates == 1);
  CHECK(s2.in_flight == 2);
  CHECK(step.steps[1].record.gauges.in_flight == 2);
}

TEST_CASE("async_loop region routing counts tasks per edge and frees a slot at the answer",
          "[protocol]") {
  // 3 clients, all in region 0; edge 0 in region 0, edge 1 in region 1; capacity 1; 3 in
  // flight, buffer 2.
  auto sc = async_scenario(3, 2, 3, 2);
  sc.topology.routing = routing_kind::region;
  sc.population.regions = 2;
  async_fixture f(sc, {1, 2}, ten_each());
  f.edges->route_by_region(std::make_unique<region_router>(std::vector<uint32_t>{0, 1}, 2,
                                                           region_latency_matrix({}, 2), 1),
                           f.registry.get());
  auto start = f.loop->start();
  REQUIRE(start.send.size() == 3);
  // Dispatch order: edge 0 (own region), edge 1 (edge 0 full: spill), edge 0 (all full: queued
  // on the own region's least-loaded edge).
  CHECK(start.send[0].edge == 0);
  CHECK(start.send[1].edge == 1);
  CHECK(start.send[2].edge == 0);
  CHECK(f.edges->regions()->load(0) == 2);
  CHECK(f.edges->regions()->load(1) == 1);
  // The task on edge 1 answers: its count goes, and the refill takes the free slot there.
  auto step = answer(*f.loop, start.send[1], {1, 1}, 10, 0.5);
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].edge == 1);
  CHECK(f.edges->regions()->load(0) == 2);
  CHECK(f.edges->regions()->load(1) == 1);
}

namespace {

// decayed_simulated(steps) over 12 clients with selection.adaptive_size from concurrency 4
// within [2, 6] and the given target.
scenario adaptive_simulated(uint32_t steps, double target) {
  auto sc = decayed_simulated(steps);
  sc.population.clients = 12;
  sc.selection.adaptive_size.enabled = true;
  sc.selection.adaptive_size.min = 2;
  sc.selection.adaptive_size.max = 6;
  sc.selection.adaptive_size.target_rel_var = target;
  return sc;
}

// Runs `sc` answering the oldest task first (client c moves its model by (c+1)/4 · (1, -1));
// after every event the tasks in flight are checked against the concurrency of the last step.
std::vector<round_record> adaptive_run(const scenario& sc) {
  async_fixture f(sc, {0.5f, -0.25f}, [](client_id id) { return 20 + 7 * (id % 5); });
  driver d;
  d.take(f.loop->start());
  CHECK(f.loop->in_flight() == sc.async.concurrency);
  size_t answers = 0;
  while (!d.finished && !d.pending.empty() && answers < 10000) {
    auto t = d.pop(0);
    const float s = static_cast<float>(t.client + 1) / 4;
    const size_t before = d.steps.size();
    d.take(answer(*f.loop, t, {s, -s}, f.registry->num_samples(t.client), t.client / 8.0));
    ++answers;
    if (!d.finished && d.steps.size() > before) {
      // Filled up to the new concurrency (12 clients, never more than 6 busy); a shrink lets
      // the tasks already running finish, none is added.
      const uint32_t k = d.steps.back().record.next_sample_size;
      CHECK(f.loop->in_flight() >= k);
      CHECK(f.loop->in_flight() <= sc.selection.adaptive_size.max);
    }
  }
  REQUIRE(d.finished);
  std::vector<round_record> out;
  for (const auto& st : d.steps) out.push_back(st.record);
  return out;
}

void check_rule_followed(const std::vector<round_record>& recs, const scenario& sc) {
  const auto& cfg = sc.selection.adaptive_size;
  uint32_t k = sc.async.concurrency;
  for (const auto& r : recs) {
    CAPTURE(r.round);
    CHECK(r.sample_size == k);
    CHECK(r.next_sample_size == next_sample_size(k, r.rel_var, cfg));
    CHECK(r.next_sample_size >= cfg.min);
    CHECK(r.next_sample_size <= cfg.max);
    k = r.next_sample_size;
  }
}

}  // namespace

TEST_CASE("async_loop adaptive concurrency grows to max when the spread is above the target",
          "[protocol][adaptive]") {
  // Target 1e-9: every step whose two updates differ grows k: 4 -> 6 (ceil 6) -> 6 (max).
  const auto sc = adaptive_simulated(8, 1e-9);
  const auto recs = adaptive_run(sc);
  REQUIRE(recs.size() == 8);
  check_rule_followed(recs, sc);
  CHECK(recs[0].sample_size == 4);
  CHECK(recs[0].rel_var > 1e-9);
  CHECK(recs[0].next_sample_size == 6);
  CHECK(recs.back().next_sample_size == 6);
}

TEST_CASE("async_loop adaptive concurrency shrinks to min when the spread is far below the target",
          "[protocol][adaptive]") {
  // Target 1e9: k <- floor(k × 0.8): 4 -> 3 -> 2 (floor 2.4) -> 2 (min).
  const auto sc = adaptive_simulated(8, 1e9);
  const auto recs = adaptive_run(sc);
  REQUIRE(recs.size() == 8);
  check_rule_followed(recs, sc);
  CHECK(recs[0].next_sample_size == 3);
  CHECK(recs[1].next_sample_size == 2);
  CHECK(recs.back().next_sample_size == 2);
}

TEST_CASE("async_loop adaptive concurrency is the same run for any answer order",
          "[protocol][adaptive]") {
  const auto sc = adaptive_simulated(8, 0.05);
  const auto first_sent = run_with(sc, "sgd", [](const auto&) { return size_t{0}; });
  const auto last_sent = run_with(sc, "sgd", [](const auto& p) { return p.size() - 1; });
  CHECK(first_sent == last_sent);
  CHECK(first_sent.find(" k4 ") != std::string::npos);  // the trace carries the sizes
  // Without the feature the run is the fixed-concurrency one, and its trace carries none.
  auto fixed = sc;
  fixed.selection.adaptive_size.enabled = false;
  CHECK(run_with(fixed, "sgd", [](const auto&) { return size_t{0}; }).find(" k") ==
        std::string::npos);
}

TEST_CASE("async_loop adaptive concurrency resumed from a checkpoint continues exactly",
          "[protocol][adaptive]") {
  const auto sc = adaptive_simulated(9, 0.05);
  const auto first = [](const auto&) { return size_t{0}; };
  const auto last = [](const auto& p) { return p.size() - 1; };
  const auto full = run_checkpointed(sc, last, 2);
  REQUIRE(full.lines.size() == 9);
  REQUIRE(full.checkpoints.size() >= 4);
  std::set<uint32_t> sizes;
  for (size_t c = 0; c + 1 < full.checkpoints.size(); ++c) {
    const auto& ck = *full.checkpoints[c];
    CAPTURE(ck.round);
    const auto state = decode_async_state(ck.state, "ck");
    CHECK(state.concurrency >= 2);
    CHECK(state.concurrency <= 6);
    sizes.insert(state.concurrency);
    const auto resumed = run_checkpointed(sc, first, 2, &ck);
    const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
    CHECK(resumed.lines == rest);
  }
  CHECK(sizes.size() >= 2);  // the concurrency moved between checkpoints
  // Stopped mid-buffer: the buffer's spread sums travel with it.
  for (size_t stop_after : {3, 7, 12}) {
    CAPTURE(stop_after);
    const auto stopped = run_checkpointed(sc, last, 2, nullptr, stop_after);
    const auto& ck = *stopped.checkpoints.back();
    const auto resumed = run_checkpointed(sc, first, 2, &ck);
    const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
    CHECK(resumed.lines == rest);
  }
  // A checkpoint's concurrency must fit the scenario.
  auto fixed = sc;
  fixed.selection.adaptive_size.enabled = false;
  async_fixture g(fixed, {0.5f, -0.25f}, ten_each(), "fedadam");
  const auto state = decode_async_state(full.checkpoints[1]->state, "ck");
  CHECK_THROWS_WITH(g.loop->load_state(state), "checkpoint: an adaptive concurrency of " +
                                                   std::to_string(state.concurrency) +
                                                   " (0: fixed), selection.adaptive_size is off");
}

TEST_CASE("async_loop ends a run that accepts no update in stall_limit task outcomes in a row",
          "[protocol]") {
  // Concurrency 2, buffer 4: the limit is max(100, 10 x 4) = 100 outcomes in a row.
  async_fixture f(async_scenario(8, 1, 2, 4), {1, 2}, ten_each());
  CHECK(f.loop->stall_limit() == 100);
  driver d;
  d.take(f.loop->start());
  // Fails the oldest pending task, timeout on even counts and client_error on odd ones.
  auto fail_next = [&](uint32_t i) {
    auto t = d.pop(0);
    d.take(f.loop->failed(t.seq, t.attempt,
                          i % 2 ? failure_code::client_error : failure_code::timeout, "no"));
  };
  for (uint32_t i = 0; i < 99; ++i) fail_next(i);
  CHECK_FALSE(d.finished);
  // One accepted update starts the count again.
  auto t = d.pop(0);
  d.take(answer(*f.loop, t, {0.5f, 0.5f}, 10));
  for (uint32_t i = 0; i < 99; ++i) fail_next(i);
  CHECK_FALSE(d.finished);
  CHECK_FALSE(f.loop->stalled());
  // The 100th outcome in a row without an accepted update ends the run: nothing more is sent.
  t = d.pop(0);
  auto last = f.loop->failed(t.seq, t.attempt, failure_code::timeout, "no");
  CHECK(last.finished);
  CHECK(last.send.empty());
  CHECK(f.loop->finished());
  CHECK(f.loop->stalled());
  CHECK_FALSE(f.loop->stopped());
  CHECK(f.loop->stall_reason() ==
        "stalled: no update accepted in the last 100 task outcomes (51 timeout, 49 client_error)");
  CHECK(f.loop->steps_done() == 0);  // the one accepted update never filled the buffer
  // Answers to the tasks still in flight change nothing.
  t = d.pop(0);
  auto after = answer(*f.loop, t, {1, 1}, 10);
  CHECK(after.send.empty());
  CHECK(after.steps.empty());
}

TEST_CASE("async_loop refused updates count toward the stall limit like failures", "[protocol]") {
  // Every answer has a non-finite value: refused on arrival, the run stalls after 100.
  async_fixture f(async_scenario(8, 1, 2, 4), {1, 2}, ten_each());
  driver d;
  d.take(f.loop->start());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  uint32_t answers = 0;
  while (!d.finished && !d.pending.empty() && answers < 1000) {
    auto t = d.pop(0);
    d.take(answer(*f.loop, t, {nan, 0}, 10));
    ++answers;
  }
  CHECK(answers == 100);
  CHECK(f.loop->stalled());
  CHECK(f.loop->stall_reason() ==
        "stalled: no update accepted in the last 100 task outcomes (100 invalid_update)");
}

TEST_CASE(
    "async_loop with availability dispatches online clients only and fails those going "
    "offline",
    "[protocol][availability]") {
  // 4 clients, one edge, 4 in flight, buffer 1. Tasks take their sample count in seconds:
  // client 0 10 s, the others 20 s. Everyone is online in [0, 15) and [30, 45), nobody in
  // [15, 30).
  auto sc = async_scenario(4, 1, 4, 1, 3);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.population.availability = testing::on_off(15);
  async_fixture f(sc, {1, 2}, samples_of({10, 20, 20, 20}));
  auto start = f.loop->start();
  // At t 0 all four are picked; 1, 2 and 3 would finish at 20, after going offline at 15:
  // failed, never sent, their slots held until 15.
  REQUIRE(start.send.size() == 1);
  CHECK(start.send[0].client == 0);
  CHECK(start.send[0].finish == 10.0);
  CHECK(f.loop->in_flight() == 4);
  auto step = answer(*f.loop, start.send[0], {1, 1}, 10);
  // Released at t 10: step 1. Client 0 is picked again but would finish at 20: failed. At 15
  // the four slots are released; nobody is online until 30, when the clock jumps there and
  // client 0 is sent again (the others would finish at 50, after 45: failed).
  REQUIRE(step.steps.size() == 1);
  const auto& r1 = step.steps[0].record;
  CHECK(r1.clients == 1);
  CHECK(r1.failures == 3);
  CHECK(r1.failures_by.of(failure_code::unavailable) == 3);
  CHECK(r1.went_offline == 3);
  CHECK(r1.online_fraction == 1.0);  // at t 10
  CHECK(r1.sim_time_s == 10.0);
  REQUIRE(step.send.size() == 1);
  CHECK(step.send[0].client == 0);
  CHECK(step.send[0].finish == 40.0);
  CHECK(f.loop->sim_time() == 30.0);
  CHECK(f.loop->in_flight() == 4);
  step = answer(*f.loop, step.send[0], {1, 1}, 10);
  REQUIRE(step.steps.size() == 1);
  const auto& r2 = step.steps[0].record;
  CHECK(r2.clients == 1);
  CHECK(r2.went_offline == 4);  // client 0 at t 10, then 1, 2 and 3 at t 30
  CHECK(r2.failures_by.of(failure_code::unavailable) == 4);
  CHECK(r2.sim_time_s == 40.0);
  CHECK(f.loop->totals().failures.of(failure_code::unavailable) == 7);
}

TEST_CASE("async_loop with availability and pace steering resumes as the uninterrupted run",
          "[protocol][availability]") {
  // run_checkpointed's run (tasks of 20 to 48 s, every task numbered 2 mod 5 failing) with
  // everyone online in [0, 50), [100, 150), ... and nobody between, and pace steering: tasks go
  // offline mid-run, the clock jumps over offline slots and the slots grow with the failures.
  // Resumed from each checkpoint, the steps after it are the uninterrupted run's, bit for bit.
  auto sc = decayed_simulated(9);
  sc.devices = testing::plain_devices(1.0);
  sc.population.availability = testing::on_off(50);
  sc.selection.pace.enabled = true;
  sc.selection.pace.ewma = 0.5;
  sc.selection.pace.max_factor = 2;
  const auto first = [](const auto&) { return size_t{0}; };
  const auto last = [](const auto& p) { return p.size() - 1; };
  const auto full = run_checkpointed(sc, last, 2);
  REQUIRE(full.lines.size() == 9);
  REQUIRE(full.checkpoints.size() >= 4);
  CHECK(full.went_offline > 0);
  bool paced = false;
  for (size_t c = 0; c + 1 < full.checkpoints.size(); ++c) {
    const auto& ck = *full.checkpoints[c];
    CAPTURE(ck.round);
    const auto state = decode_async_state(ck.state, "ck");
    REQUIRE(state.pace_failure_rate >= 0);
    paced = paced || state.pace_failure_rate > 0;
    const auto resumed = run_checkpointed(sc, first, 2, &ck);
    const std::vector<std::string> rest(full.lines.begin() + ck.round, full.lines.end());
    CHECK(resumed.lines == rest);
  }
  CHECK(paced);
}

TEST_CASE("async_loop with an availability trace that ends stalls when nobody comes back",
          "[protocol][availability]") {
  // Client 0 is online in [0, 5) only, client 1 never: its 10 s task goes offline at 5, and
  // nobody comes online again.
  const auto file = std::filesystem::temp_directory_path() /
                    ("fedactor_async_trace_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file);
    out << "0 0 5\n";
  }
  auto sc = async_scenario(2, 1, 2, 1, 3);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.population.availability.model = availability_model::trace;
  sc.population.availability.trace = file.string();
  async_fixture f(sc, {1, 2}, ten_each());
  std::filesystem::remove(file);
  auto start = f.loop->start();
  CHECK(start.send.empty());
  CHECK(start.finished);
  CHECK(f.loop->stalled());
  CHECK(f.loop->stall_reason() ==
        "stalled: no client comes online again after t = 5.0 s (population.availability.trace has "
        "no later interval)");
  CHECK(f.loop->totals().failures.of(failure_code::unavailable) == 0);  // no step took them
  CHECK(f.loop->steps_done() == 0);
}

TEST_CASE("async_loop with nobody ever online stalls after two diurnal periods",
          "[protocol][availability]") {
  auto sc = async_scenario(3, 1, 2, 1, 3);
  sc.clock = clock_kind::simulated;
  sc.devices = testing::plain_devices(1.0);
  sc.population.availability.model = availability_model::diurnal;
  sc.population.availability.base = 0.1;
  sc.population.availability.amplitude = 0.1;  // p = 0 at the trough, 0.2 at the peak
  sc.population.availability.period_s = 100;
  sc.population.availability.slot_s = 10;
  sc.population.availability.peak_s = {50};  // p(0) = 0: nobody online at the start
  // With 3 clients some slot of two periods may have someone online: the seed decides; what
  // must hold is that the run ends (a step or a stall), never loops.
  async_fixture f(sc, {1, 2}, ten_each());
  driver d;
  d.take(f.loop->start());
  size_t answers = 0;
  while (!d.finished && !d.pending.empty() && answers < 1000) {
    auto t = d.pop(0);
    d.take(answer(*f.loop, t, {1, 1}, 10));
    ++answers;
  }
  CHECK(d.finished);
  if (f.loop->stalled())
    CHECK(f.loop->stall_reason().find("for two periods of population.availability (200 s)") !=
          std::string::npos);
  else
    CHECK(f.loop->steps_done() == 3);
}

TEST_CASE("async_loop pace steering keeps more tasks in flight after failures",
          "[protocol][availability]") {
  // 20 clients, 4 in flight, buffer 4, ewma 0.5, max factor 2, real clock.
  auto sc = async_scenario(20, 1, 4, 4, 3);
  sc.selection.pace.enabled = true;
  sc.selection.pace.ewma = 0.5;
  sc.selection.pace.max_factor = 2;
  async_fixture f(sc, {1, 2}, ten_each());
  f.loop->checkpoint_every(1);
  driver d;
  d.take(f.loop->start());
  REQUIRE(d.pending.size() == 4);  // factor 1
  // Two fail (refilled: still 4), then four updates: step 1 saw 6 outcomes, 2 failed:
  // f = 0.5 · 2/6 = 1/6, factor 1.2, ceil(4 · 1.2) = 5 in flight after it.
  for (int i = 0; i < 2; ++i) {
    auto t = d.pop(0);
    d.take(f.loop->failed(t.seq, t.attempt, failure_code::client_error, "boom"));
  }
  REQUIRE(d.pending.size() == 4);
  async_step last;
  for (int i = 0; i < 4; ++i) {
    auto t = d.pop(0);
    last = answer(*f.loop, t, {1, 1}, 10);
    d.take(last);
  }
  REQUIRE(d.steps.size() == 1);
  CHECK(d.steps[0].record.over_select_factor == 1.0);
  CHECK(d.steps[0].record.failures == 2);
  CHECK(d.steps[0].record.went_offline == 0);
  CHECK(d.steps[0].record.online_fraction == 1.0);
  REQUIRE(last.checkpoint);
  CHECK(decode_async_state(last.checkpoint->state, "ck").pace_failure_rate == Approx(1.0 / 6));
  CHECK(f.loop->in_flight() == 5);
  CHECK(d.pending.size() == 5);
}

TEST_CASE("async_loop pace steering leaves stale discards out of the failure rate",
          "[protocol][availability]") {
  // Buffer 1, threshold 0, 2 in flight: the second answer of the start is stale (its base is
  // version 0, the server is at 1). Counted as a stale failure, it does not raise f.
  auto sc = async_scenario(10, 1, 2, 1, 3);
  sc.async.staleness_threshold = 0;
  sc.selection.pace.enabled = true;
  sc.selection.pace.ewma = 0.5;
  sc.selection.pace.max_factor = 2;
  async_fixture f(sc, {1, 2}, ten_each());
  driver d;
  d.take(f.loop->start());
  REQUIRE(d.pending.size() == 2);
  d.take(answer(*f.loop, d.pop(0), {1, 1}, 10));  // step 1
  d.take(answer(*f.loop, d.pop(0), {1, 1}, 10));  // stale
  REQUIRE(d.pending.size() == 2);
  // The first pending task is the refill after step 1 (base version 1): fresh.
  d.take(answer(*f.loop, d.pop(0), {1, 1}, 10));  // step 2
  REQUIRE(d.steps.size() == 2);
  CHECK(d.steps[1].record.failures_by.of(failure_code::stale) == 1);
  CHECK(d.steps[1].record.over_select_factor == 1.0);
  CHECK(f.loop->in_flight() == 2);  // f = 0: factor 1 (with stale counted: 3)
}

TEST_CASE("async_loop refuses a checkpoint whose pace steering state does not fit",
          "[protocol][availability]") {
  auto sc = async_scenario(10, 1, 2, 1, 3);
  async_fixture plain(sc, {1, 2}, ten_each());
  auto state = plain.loop->save_state();
  sc.selection.pace.enabled = true;
  async_fixture paced(sc, {1, 2}, ten_each());
  CHECK_THROWS_WITH(paced.loop->load_state(state),
                    "checkpoint: no pace steering state, this run has selection.pace");
  state.pace_failure_rate = 0.25;
  async_fixture plain2(async_scenario(10, 1, 2, 1, 3), {1, 2}, ten_each());
  CHECK_THROWS_WITH(plain2.loop->load_state(state),
                    "checkpoint: a pace steering state, this run has no selection.pace");
}
