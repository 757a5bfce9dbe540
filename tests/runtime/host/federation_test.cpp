#include "runtime/host/federation.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/checkpoint_error.hpp"
#include "runtime/checkpoint/run_checkpoint.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/scenario/load.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;
using fedactor::testing::run_federation;

namespace {

scenario small_teacher() {
  scenario s;
  s.name = "test";
  s.seed = 21;
  s.population.clients = 300;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 10;
  s.selection.clients_per_round = 40;
  s.pool.max_live_clients = 40;
  s.pool.trainers = 2;
  s.protocol.rounds = 1;
  return s;
}

}  // namespace

TEST_CASE("one hierarchical round over 10 edges equals flat weighted FedAvg", "[host]") {
  auto s = small_teacher();
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 1);
  REQUIRE(out.records[0].clients == 40);
  REQUIRE(out.records[0].failures == 0);

  // Flat FedAvg by hand: the same 40 clients (same sampler, same seed), each trained from
  // the initial model, averaged with weights num_samples, in double.
  auto data = make_data_source(s);
  client_registry reg{s.population.clients, s.seed, s.population.regions,
                      [&](client_id id) { return data->num_samples(id); }};
  auto pick = make_sampler(s.selection.strategy, reg, s.seed);
  auto ids = pick->sample(s.selection.clients_per_round, 1);
  auto spec = make_model_spec(s);
  auto start = initial_params(spec, s.seed);
  local_trainer t{spec};
  std::vector<double> sum(start.size(), 0.0);
  double total = 0;
  for (auto id : ids) {
    local_train_config lc{1, 32, s.training.lr, s.training.momentum,
                          stream_key(s.seed, rng_tag::shuffle, 1, id)};
    auto r = t.train(start, data->make(id), lc);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += r.num_samples * double(r.params[i]);
    total += r.num_samples;
  }
  const auto& model = out.result.model;
  REQUIRE(model.size() == sum.size());
  for (size_t i = 0; i < sum.size(); ++i) REQUIRE(model[i] == Approx(sum[i] / total).margin(1e-6));
}

TEST_CASE("the model bytes do not depend on the number of edges", "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  auto ten = run_federation(s);
  s.topology.edges = 1;
  auto one = run_federation(s);
  s.topology.edges = 7;
  s.topology.routing = routing_kind::hash;
  auto seven = run_federation(s);
  CHECK(ten.result.summary.model_sha256 == one.result.summary.model_sha256);
  CHECK(ten.result.summary.model_sha256 == seven.result.summary.model_sha256);
}

TEST_CASE("the same scenario gives identical model bytes with 1 and 2 scheduler threads",
          "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  auto a = run_federation(s, 1);
  auto b = run_federation(s, 2);
  REQUIRE(a.result.summary.model_sha256.size() == 64);
  CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
  CHECK(a.result.model == b.result.model);
  s.seed = 22;
  auto c = run_federation(s, 2);
  CHECK(c.result.summary.model_sha256 != a.result.summary.model_sha256);
}

TEST_CASE("three rounds on the learnable task lower the loss", "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  s.training.epochs = 2;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  for (auto& r : out.records) {
    CHECK(r.clients == 40);
    CHECK(r.failures == 0);
  }
  CHECK(out.records[2].mean_loss < out.records[0].mean_loss - 0.1);
  CHECK(out.result.summary.rounds == 3);
  CHECK(out.result.summary.clients_trained == 120);
  CHECK(out.result.summary.final_loss == out.records[2].mean_loss);
}

TEST_CASE("the live client set never exceeds pool.max_live_clients", "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  s.selection.clients_per_round = 60;
  s.pool.max_live_clients = 12;
  s.topology.edges = 4;  // 3 live clients per edge
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  for (auto& r : out.records) {
    CHECK(r.clients == 60);
    CHECK(r.peak_live_clients <= 12);
    CHECK(r.live_clients <= 12);
  }
  CHECK(out.records.back().evictions > 100);  // ~168: every new client beyond 12 evicts one
}

TEST_CASE("a federation refuses a scenario built in code that does not validate", "[host]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto s = small_teacher();
  s.topology.edges = 0;  // would divide the clients by zero edges
  const auto expected = validate(s);
  REQUIRE(expected);
  try {
    federation fl{sys, s};
    FAIL("no error for topology.edges 0");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()} == expected->message);
    CHECK(std::string{e.what()}.find("topology.edges") != std::string::npos);
  }
}

TEST_CASE("FedProx with mu 0 gives FedAvg's model bit for bit", "[host][algorithms]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  const auto fedavg = run_federation(s).result.summary.model_sha256;
  s.strategy.client = client_algorithm::fedprox;
  s.strategy.prox_mu = 0;
  CHECK(run_federation(s).result.summary.model_sha256 == fedavg);
  // And mu > 0 changes it.
  s.strategy.prox_mu = 0.5;
  CHECK(run_federation(s).result.summary.model_sha256 != fedavg);
}

TEST_CASE("SCAFFOLD's first round, with every control variate zero, is FedAvg's",
          "[host][algorithms]") {
  auto s = small_teacher();
  const auto fedavg = run_federation(s).result.summary.model_sha256;
  s.strategy.client = client_algorithm::scaffold;
  CHECK(run_federation(s).result.summary.model_sha256 == fedavg);
  // From the second round on the control variates correct the steps.
  s.protocol.rounds = 3;
  auto fedavg3 = small_teacher();
  fedavg3.protocol.rounds = 3;
  CHECK(run_federation(s).result.summary.model_sha256 !=
        run_federation(fedavg3).result.summary.model_sha256);
}

TEST_CASE("SCAFFOLD's client state survives client eviction and spilling to the store's file",
          "[host][algorithms]") {
  // 300 clients of 2,762 parameters: 11 KiB of control variate each, 3.2 MiB in all, against
  // a 1 MiB memory bound; 10 live client actors for 40 clients a round: every client actor is
  // evicted between its tasks. The model must not depend on where the state was kept.
  auto s = small_teacher();
  s.protocol.rounds = 6;
  s.selection.clients_per_round = 60;
  s.pool.max_live_clients = 10;
  s.strategy.client = client_algorithm::scaffold;
  s.pool.client_state_mb = 1024;
  const auto roomy = run_federation(s);
  s.pool.client_state_mb = 1;
  const auto tight = run_federation(s);
  REQUIRE(tight.records.size() == 6);
  CHECK(tight.result.summary.failures == 0);
  CHECK(tight.result.summary.model_sha256 == roomy.result.summary.model_sha256);
  for (auto& r : tight.records) CHECK(r.evictions > 0);
}

TEST_CASE("every server optimizer runs a federation, and sgd with lr 1 is FedAvg",
          "[host][algorithms]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  const auto fedavg = run_federation(s).result.summary.model_sha256;
  s.strategy.server_optimizer = "sgd";
  s.strategy.server_lr = 1;
  CHECK(run_federation(s).result.summary.model_sha256 == fedavg);
  for (const auto& kind : {"fedavgm", "fedadam", "fedyogi", "fedadagrad"}) {
    INFO(kind);
    auto k = small_teacher();
    k.protocol.rounds = 2;
    k.strategy.server_optimizer = kind;
    auto out = run_federation(k);
    CHECK(out.records.size() == 2);
    CHECK(out.result.summary.failures == 0);
    CHECK(out.result.summary.model_sha256 != fedavg);
  }
}

TEST_CASE("a federation refuses FedBN for a model without normalisation layers", "[host]") {
  auto s = small_teacher();
  s.strategy.normalization = norm_handling::local;
  system_config cfg;
  caf::actor_system sys{cfg};
  CHECK_THROWS_WITH(federation(sys, s),
                    "strategy.normalization: local (FedBN) needs a model with normalisation "
                    "layers (BatchNorm, GroupNorm, LayerNorm, InstanceNorm), model.kind mlp has "
                    "none");
}

TEST_CASE("a federation runs a server optimizer, sampler and staleness weight of the user's own",
          "[host][algorithms]") {
  // The optimizer moves the model by half the mean update; the sampler takes the lowest ids.
  struct half_step final : server_optimizer {
    size_t n;
    explicit half_step(size_t dim) : n(dim) {}
    const char* kind() const override { return "half"; }
    size_t dim() const override { return n; }
    void step(const float* current, const float* delta, float* next, size_t dim) override {
      for (size_t i = 0; i < dim; ++i) next[i] = current[i] + 0.5f * delta[i];
    }
    std::vector<char> save_state() const override { return {}; }
    void load_state(const char*, size_t) override {}
  };
  struct lowest_ids final : sampler {
    std::vector<client_id> sample(uint32_t k, int32_t, const exclude_fn& excluded) override {
      std::vector<client_id> out;
      for (client_id id = 0; out.size() < k; ++id)
        if (!excluded || !excluded(id)) out.push_back(id);
      return out;
    }
    size_t bytes() const override { return 0; }
  };
  auto s = small_teacher();
  system_config cfg;
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  size_t made_for = 0;
  fl.set_server_optimizer([&](size_t dim) {
    made_for = dim;
    return std::make_unique<half_step>(dim);
  });
  fl.set_sampler([](client_registry&, uint64_t) { return std::make_unique<lowest_ids>(); });
  std::vector<round_record> rounds;
  fl.on_round([&](const round_record& r) { rounds.push_back(r); });
  auto result = fl.run();
  CHECK(made_for == fl.spec().num_params());
  REQUIRE(rounds.size() == 1);
  CHECK(rounds[0].clients == 40);
  // By hand: the clients 0..39 trained from the initial model, weighted mean Δ, half of it.
  auto data = make_data_source(s);
  auto spec = make_model_spec(s);
  auto start = initial_params(spec, s.seed);
  local_trainer t{spec};
  std::vector<double> sum(start.size(), 0.0);
  double total = 0;
  for (uint32_t id = 0; id < 40; ++id) {
    local_train_config lc{1, 32, s.training.lr, s.training.momentum,
                          stream_key(s.seed, rng_tag::shuffle, 1, id)};
    auto r = t.train(start, data->make(id), lc);
    for (size_t i = 0; i < sum.size(); ++i)
      sum[i] += r.num_samples * (double(r.params[i]) - double(start[i]));
    total += r.num_samples;
  }
  for (size_t i = 0; i < start.size(); ++i)
    REQUIRE(result.model[i] == Approx(start[i] + 0.5 * sum[i] / total).margin(1e-5));
}

// -- checkpoints ---------------------------------------------------------------------------

namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() /
           ("fedactor_fed_ckpt_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(d);
  return d;
}

struct checkpointed_run {
  federation_result result;
  std::vector<round_record> records;
};

// Runs `s` with checkpoints in `dir`; when the record of round `copy_at` is handed on (the
// checkpoint of an earlier round is then written), copies `dir` to `copy_to`: the state a
// process killed at that point leaves behind.
checkpointed_run run_copying(const scenario& s, const fs::path& dir, uint32_t copy_at,
                             const fs::path& copy_to, const fs::path& state_file = {}) {
  system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  fl.set_checkpoint(dir);
  if (!state_file.empty()) fl.set_client_state_file(state_file);
  checkpointed_run out;
  fl.on_round([&](const round_record& r) {
    out.records.push_back(r);
    if (r.round == copy_at) fs::copy(dir, copy_to, fs::copy_options::recursive);
  });
  out.result = fl.run();
  return out;
}

checkpointed_run resume(const scenario& s, const fs::path& dir, uint32_t expected_done,
                        const fs::path& state_file = {}) {
  system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  CHECK(fl.resume_from(dir) == expected_done);
  fl.set_checkpoint(dir);
  if (!state_file.empty()) fl.set_client_state_file(state_file);
  checkpointed_run out;
  fl.on_round([&](const round_record& r) { out.records.push_back(r); });
  out.result = fl.run();
  return out;
}

// The resumed run's records are the uninterrupted run's from round `from` on (wall-clock
// figures apart), and it ends with the same model and totals.
void check_same_ending(const checkpointed_run& full, const checkpointed_run& resumed,
                       uint32_t from) {
  CHECK(resumed.result.summary.model_sha256 == full.result.summary.model_sha256);
  CHECK(resumed.result.model == full.result.model);
  CHECK(resumed.result.summary.rounds == full.result.summary.rounds);
  CHECK(resumed.result.summary.clients_trained == full.result.summary.clients_trained);
  CHECK(resumed.result.summary.failures_by == full.result.summary.failures_by);
  CHECK(resumed.result.summary.final_loss == full.result.summary.final_loss);
  CHECK(resumed.result.summary.sim_time_s == full.result.summary.sim_time_s);
  CHECK(resumed.result.summary.total_updates == full.result.summary.total_updates);
  CHECK(resumed.result.summary.stale_updates == full.result.summary.stale_updates);
  CHECK(resumed.result.summary.test_accuracy == full.result.summary.test_accuracy);
  REQUIRE(resumed.records.size() == full.records.size() - (from - 1));
  for (size_t i = 0; i < resumed.records.size(); ++i) {
    const auto& a = full.records[from - 1 + i];
    const auto& b = resumed.records[i];
    CHECK(b.round == a.round);
    CHECK(b.model_version == a.model_version);
    CHECK(b.clients == a.clients);
    CHECK(b.mean_loss == a.mean_loss);
    CHECK(b.sim_time_s == a.sim_time_s);
    CHECK(b.test_accuracy == a.test_accuracy);
    CHECK(b.staleness_histogram == a.staleness_histogram);
  }
}

}  // namespace

TEST_CASE("a sync federation resumed from a mid-run checkpoint ends as the uninterrupted one",
          "[host][checkpoint]") {
  auto s = small_teacher();
  s.protocol.rounds = 5;
  s.checkpoint.every = 2;
  s.selection.strategy = sampling_kind::least_recent;
  s.strategy.server_optimizer = "fedadam";
  const auto dir = fresh_dir("sync"), copy = fresh_dir("sync_copy");
  // Copied when round 3's record comes: the checkpoint after round 2 is the last one.
  auto full = run_copying(s, dir, 3, copy);
  auto resumed = resume(s, copy, 2);
  check_same_ending(full, resumed, 3);
  fs::remove_all(dir);
  fs::remove_all(copy);
}

TEST_CASE("an async federation (simulated clock) resumed mid-run ends as the uninterrupted one",
          "[host][checkpoint]") {
  auto s = small_teacher();
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 5;
  s.async.staleness_threshold = 2;
  s.async.aggregations = 7;
  s.checkpoint.every = 3;
  const auto dir = fresh_dir("async"), copy = fresh_dir("async_copy");
  auto full = run_copying(s, dir, 5, copy);
  auto resumed = resume(s, copy, 3);
  check_same_ending(full, resumed, 4);
  CHECK(full.result.summary.stale_updates > 0);  // the tasks in flight spanned versions
  fs::remove_all(dir);
  fs::remove_all(copy);
}

TEST_CASE("a SCAFFOLD federation resumes with the client state of its checkpoint",
          "[host][checkpoint][algorithms]") {
  auto s = small_teacher();
  s.protocol.rounds = 4;
  s.checkpoint.every = 2;
  s.strategy.client = client_algorithm::scaffold;
  const auto dir = fresh_dir("scaffold"), copy = fresh_dir("scaffold_copy");
  const auto run_dir = fresh_dir("scaffold_run");
  auto full = run_copying(s, dir, 3, copy, run_dir / "client_state.db");
  // The live store file ran two rounds past the checkpoint: the resume must not use it.
  const auto resumed_state = fresh_dir("scaffold_resumed") / "client_state.db";
  fs::create_directories(resumed_state.parent_path());
  fs::copy_file(run_dir / "client_state.db", resumed_state);
  auto resumed = resume(s, copy, 2, resumed_state);
  check_same_ending(full, resumed, 3);
  for (const auto& d : {dir, copy, run_dir, resumed_state.parent_path()}) fs::remove_all(d);
}

TEST_CASE("a federation resumed from the checkpoint at the end repeats the result, no rounds",
          "[host][checkpoint]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  s.checkpoint.every = 0;
  const auto dir = fresh_dir("end"), unused = fresh_dir("end_unused");
  auto full = run_copying(s, dir, 99, unused);
  auto again = resume(s, dir, 2);
  CHECK(again.records.empty());
  CHECK(again.result.model == full.result.model);
  CHECK(again.result.summary.clients_trained == full.result.summary.clients_trained);
  CHECK(again.result.summary.evaluated_round == 2);
  CHECK(again.result.summary.test_accuracy == full.result.summary.test_accuracy);
  fs::remove_all(dir);
}

TEST_CASE("a federation refuses a missing checkpoint, another scenario's, and a user's sampler",
          "[host][checkpoint]") {
  auto s = small_teacher();
  system_config cfg;
  caf::actor_system sys{cfg};
  const auto dir = fresh_dir("refuse");
  {
    federation fl{sys, s};
    CHECK_THROWS_WITH(fl.resume_from(dir),
                      (dir / "state.ckpt").string() + ": no checkpoint (the file does not exist)");
    fl.set_checkpoint(dir);
    fl.run();
  }
  auto other = s;
  other.seed = 22;
  federation fl{sys, other};
  CHECK_THROWS_WITH(fl.resume_from(dir),
                    (dir / "state.ckpt").string() + ": written by a run of another scenario");
  CHECK_THROWS_AS(fl.resume_from(dir), checkpoint_error);
  struct lowest_ids final : sampler {
    std::vector<client_id> sample(uint32_t k, int32_t, const exclude_fn&) override {
      std::vector<client_id> out;
      for (client_id id = 0; id < k; ++id) out.push_back(id);
      return out;
    }
    size_t bytes() const override { return 0; }
  };
  federation mine{sys, s};
  mine.set_sampler([](client_registry&, uint64_t) { return std::make_unique<lowest_ids>(); });
  mine.set_checkpoint(fresh_dir("refuse_sampler"));
  CHECK_THROWS_WITH(mine.run(),
                    "checkpoints: the sampler cannot save its state (override "
                    "sampler::save_state and load_state, or run without checkpoints)");
  fs::remove_all(dir);
}

TEST_CASE("a federation warns when its scenario is checkpointed at the end only",
          "[host][checkpoint]") {
  auto s = small_teacher();
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.edge = edge_mode::preaggregate;
  system_config cfg;
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  const auto before = fl.warnings().size();
  fl.set_checkpoint(fresh_dir("warn"));
  REQUIRE(fl.warnings().size() == before + 1);
  CHECK(fl.warnings().back() ==
        "async.edge_mode preaggregate runs are checkpointed at the end only (groups span server "
        "steps)");
}

TEST_CASE(
    "a sync federation stopped from another thread returns the model of its last completed "
    "round, bit for bit, marked interrupted",
    "[host][stop]") {
  auto s = small_teacher();
  s.protocol.rounds = 50;
  system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  std::vector<round_record> records;
  // The observer's thread asks for the stop after round 2's record: rounds may have ended
  // since, but the run stops well before 50.
  fl.on_round([&](const round_record& r) {
    records.push_back(r);
    if (r.round == 2) fl.stop("test stop");
  });
  auto out = fl.run();
  const auto& sum = out.summary;
  CHECK(sum.interrupted);
  CHECK(sum.stopped_by == "test stop");
  REQUIRE(sum.rounds >= 2);
  REQUIRE(sum.rounds < 50);
  CHECK(records.size() == sum.rounds);  // every completed round handed on, none after
  // The same scenario run to exactly that many rounds gives the same bytes.
  s.protocol.rounds = sum.rounds;
  auto full = run_federation(s);
  CHECK_FALSE(full.result.summary.interrupted);
  CHECK(model_sha256(out.model) == model_sha256(full.result.model));
  CHECK(sum.model_sha256 == full.result.summary.model_sha256);
  CHECK(sum.clients_trained == full.result.summary.clients_trained);
}

TEST_CASE("an async federation stopped from another thread keeps the last server step's model",
          "[host][stop]") {
  auto s = small_teacher();
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 10;
  s.async.aggregations = 60;
  s.clock = clock_kind::simulated;
  system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  std::vector<round_record> records;
  fl.on_round([&](const round_record& r) {
    records.push_back(r);
    if (r.round == 2) fl.stop("test stop");
  });
  auto out = fl.run();
  CHECK(out.summary.interrupted);
  REQUIRE(out.summary.rounds >= 2);
  REQUIRE(out.summary.rounds < 60);
  CHECK(out.summary.aggregations == out.summary.rounds);
  CHECK(records.size() == out.summary.rounds);
  // Under the simulated clock the run is reproducible: the same scenario ended after that
  // many steps has the same model.
  s.async.aggregations = out.summary.rounds;
  auto full = run_federation(s);
  CHECK(model_sha256(out.model) == model_sha256(full.result.model));
}

TEST_CASE("a federation stopped before run() ends its next run at once with the initial model",
          "[host][stop]") {
  auto s = small_teacher();
  s.protocol.rounds = 5;
  system_config cfg;
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  size_t records = 0;
  fl.on_round([&](const round_record&) { ++records; });
  fl.stop("early");
  auto out = fl.run();
  CHECK(out.summary.interrupted);
  CHECK(out.summary.stopped_by == "early");
  CHECK(out.summary.rounds == 0);
  CHECK(records == 0);
  CHECK(out.model == initial_params(fl.spec(), s.seed));
  // The stop ended that run only: the next one runs to the end.
  auto next = fl.run();
  CHECK_FALSE(next.summary.interrupted);
  CHECK(next.summary.rounds == 5);
}

// -- scripted events, end to end ---------------------------------------------------------

namespace {

scenario_event on(event_trigger trigger, uint32_t n, event_kind kind) {
  scenario_event e;
  e.trigger = trigger;
  e.count = n;
  e.kind = kind;
  return e;
}

scenario_event at(double t, event_kind kind) {
  scenario_event e;
  e.trigger = event_trigger::at;
  e.at = t;
  e.kind = kind;
  return e;
}

// small_teacher in async mode under the simulated clock: 20 in flight, a step every 10.
scenario small_async() {
  auto s = small_teacher();
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 10;
  s.async.aggregations = 8;
  return s;
}

uint64_t total(const std::vector<round_record>& rs, failure_code c) {
  uint64_t n = 0;
  for (const auto& r : rs) n += r.failures_by.of(c);
  return n;
}

}  // namespace

TEST_CASE("federation: an edge down and up by script reroutes its clients, same model",
          "[host][events]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  const auto reference = run_federation(s);
  auto down = on(event_trigger::round, 2, event_kind::edge_down);
  down.edge = 3;
  auto up = on(event_trigger::round, 3, event_kind::edge_up);
  up.edge = 3;
  s.events = {down, up};
  const auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  CHECK(out.records[0].rerouted == 0);
  CHECK(out.records[1].edges_lost == 1);
  CHECK(out.records[1].rerouted > 0);  // edge 3's clients of the round, through survivors
  CHECK(out.records[1].clients == 40);
  CHECK(out.records[1].failures == 0);
  REQUIRE(out.records[1].events.size() == 1);
  CHECK(out.records[1].events[0].kind == "edge_down");
  CHECK(out.records[2].edges_rejoined == 1);
  CHECK(out.records[2].rerouted == 0);
  // The same clients train the same way whichever edge carries them; aggregation is exact.
  CHECK(out.result.summary.model_sha256 == reference.result.summary.model_sha256);
  // Under the drop policy, they fail instead.
  s.faults.on_edge_loss = edge_loss_policy::drop;
  const auto dropped = run_federation(s);
  CHECK(dropped.records[1].failures_by.of(failure_code::edge_lost) == out.records[1].rerouted);
  CHECK(dropped.records[1].clients == 40 - out.records[1].rerouted);
}

TEST_CASE("federation: clients that left are not sampled, the rounds take the others",
          "[host][events]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  auto leave = on(event_trigger::round, 2, event_kind::clients_leave);
  leave.clients.from = 0;
  leave.clients.to = 280;  // 20 of 300 stay
  auto join = on(event_trigger::round, 3, event_kind::clients_join);
  join.clients.fraction = 1;
  s.events = {leave, join};
  const auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  CHECK(out.records[0].selected == 40);
  CHECK(out.records[1].selected == 20);
  CHECK(out.records[1].clients == 20);
  REQUIRE(out.records[1].events.size() == 1);
  CHECK(out.records[1].events[0].changed == 280);
  CHECK(out.records[2].selected == 40);
  CHECK(out.records[2].events[0].changed == 280);
}

TEST_CASE("federation: a region down takes its clients out of sampling until it is back",
          "[host][events]") {
  auto s = small_teacher();
  s.population.regions = 2;
  s.selection.clients_per_round = 250;
  s.pool.max_live_clients = 250;
  s.protocol.rounds = 3;
  auto down = on(event_trigger::round, 2, event_kind::region_down);
  down.region = 0;
  auto up = on(event_trigger::round, 3, event_kind::region_up);
  up.region = 0;
  s.events = {down, up};
  const auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  REQUIRE(out.records[1].events.size() == 1);
  const auto gone = out.records[1].events[0].changed;
  CHECK(gone > 100);  // about half of the 300
  CHECK(gone < 200);
  // Fewer than 250 remain: the round takes every one of them.
  CHECK(out.records[1].selected == 300 - gone);
  CHECK(out.records[2].selected == 250);
}

TEST_CASE("federation: a bandwidth drop makes the simulated rounds longer", "[host][events]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  s.devices.compute_power.kind = power_kind::constant;
  s.devices.bandwidth_sigma = 0;
  s.devices.latency_s = 0;
  auto slow = at(0.01, event_kind::bandwidth);  // during round 1: fires as round 2 starts
  slow.clients.fraction = 1;
  slow.factor = 1000;
  s.events = {slow};
  const auto out = run_federation(s);
  REQUIRE(out.records.size() == 2);
  // 32-64-10 MLP: 2,762 floats each way at 20 Mbit/s = 8.8 ms; at 1/1000 of it 8.8 s. Local
  // training is at most 199 samples x 0.002 s = 0.4 s.
  const double transfer = 2.0 * 2762 * 4 * 8 / 20e6;
  CHECK(out.records[0].sim_round_s < transfer + 0.4);
  CHECK(out.records[1].sim_round_s > 1000 * transfer);
  CHECK(out.records[1].sim_round_s < 1000 * transfer + 0.4);
  REQUIRE(out.records[1].events.size() == 1);
  CHECK(out.records[1].events[0].trigger == "at 0.01");
}

TEST_CASE("federation: async events fail the departed clients' tasks and end the run",
          "[host][events]") {
  auto s = small_async();
  auto down = at(0.3, event_kind::edge_down);
  down.edge = 2;
  auto leave = at(0.5, event_kind::clients_leave);
  leave.clients.fraction = 0.5;
  auto up = on(event_trigger::step, 5, event_kind::edge_up);
  up.edge = 2;
  s.events = {down, leave, up};
  const auto out = run_federation(s);
  REQUIRE(out.records.size() == 8);
  uint64_t lost = 0, back = 0, rerouted = 0, fired = 0;
  for (const auto& r : out.records) {
    lost += r.edges_lost;
    back += r.edges_rejoined;
    rerouted += r.rerouted;
    fired += r.events.size();
    CHECK(r.clients >= 10);
  }
  CHECK(lost == 1);
  CHECK(back == 1);
  CHECK(rerouted > 0);
  CHECK(fired == 3);
  CHECK(total(out.records, failure_code::unavailable) > 0);
  CHECK(total(out.records, failure_code::edge_lost) == 0);  // rerouted, not dropped
  // Same seed, same run.
  const auto again = run_federation(s);
  CHECK(again.result.summary.model_sha256 == out.result.summary.model_sha256);
  CHECK(total(again.records, failure_code::unavailable) ==
        total(out.records, failure_code::unavailable));
}

TEST_CASE("a sync federation with scripted events resumed mid-run ends as the uninterrupted one",
          "[host][events][checkpoint]") {
  auto s = small_teacher();
  s.protocol.rounds = 6;
  s.checkpoint.every = 2;
  auto down = on(event_trigger::round, 2, event_kind::edge_down);
  down.edge = 3;
  auto slow = on(event_trigger::round, 2, event_kind::compute);
  slow.clients.fraction = 0.5;
  slow.factor = 3;
  auto leave = on(event_trigger::round, 3, event_kind::clients_leave);
  leave.clients.fraction = 0.3;
  auto up = on(event_trigger::round, 5, event_kind::edge_up);
  up.edge = 3;
  s.events = {down, slow, leave, up};
  const auto dir = fresh_dir("sync_events"), copy = fresh_dir("sync_events_copy");
  // Copied when round 5's record comes: the checkpoint after round 4, with three events fired
  // (edge 3 down, clients slowed and gone) whose effects the resumed run must have again.
  auto full = run_copying(s, dir, 5, copy);
  auto resumed = resume(s, copy, 4);
  check_same_ending(full, resumed, 5);
  REQUIRE(resumed.records.size() == 2);
  // Round 5 brings edge 3 back (fired once, in the resumed run); nobody left comes back.
  REQUIRE(resumed.records[0].events.size() == 1);
  CHECK(resumed.records[0].events[0].kind == "edge_up");
  CHECK(resumed.records[0].edges_rejoined == 1);
  CHECK(resumed.records[1].events.empty());
  for (size_t i = 0; i < 2; ++i) {
    CHECK(resumed.records[i].sim_round_s == full.records[4 + i].sim_round_s);  // compute x3
    CHECK(resumed.records[i].rerouted == full.records[4 + i].rerouted);
  }
  fs::remove_all(dir);
  fs::remove_all(copy);
}

TEST_CASE(
    "an async federation with scripted events (simulated clock) resumed mid-run ends as the "
    "uninterrupted one",
    "[host][events][checkpoint]") {
  auto s = small_async();
  s.checkpoint.every = 1;
  auto down = on(event_trigger::step, 2, event_kind::edge_down);  // fired after step 1
  down.edge = 2;
  auto leave = at(0.5, event_kind::clients_leave);
  leave.clients.fraction = 0.5;
  auto up = on(event_trigger::step, 5, event_kind::edge_up);
  up.edge = 2;
  s.events = {down, leave, up};
  const auto dir = fresh_dir("async_events"), copy = fresh_dir("async_events_copy");
  auto full = run_copying(s, dir, 4, copy);
  // The checkpoint after step 3, or after step 2 when one answer ended steps 3 and 4 together
  // (only the later of two due checkpoints is written: docs/checkpoints.md).
  const uint32_t done = read_run_checkpoint(copy).round;
  REQUIRE(done >= 2);
  REQUIRE(done <= 3);
  size_t fired = 0;
  for (size_t i = 0; i < done; ++i) fired += full.records[i].events.size();
  CHECK(fired >= 1);  // the checkpoint holds fired events
  auto resumed = resume(s, copy, done);
  check_same_ending(full, resumed, done + 1);
  for (size_t i = 0; i < resumed.records.size(); ++i) {
    const auto& a = full.records[done + i];
    const auto& b = resumed.records[i];
    CHECK(b.events.size() == a.events.size());
    CHECK(b.failures_by == a.failures_by);
    CHECK(b.rerouted == a.rerouted);
  }
  fs::remove_all(dir);
  fs::remove_all(copy);
}

TEST_CASE(
    "a scripted server crash tears the server down and a new one resumes from its checkpoint: "
    "the run is the uninterrupted one",
    "[host][events][checkpoint]") {
  auto s = small_teacher();
  s.protocol.rounds = 5;
  s.checkpoint.every = 0;  // the crash writes its own checkpoint (here to a temporary directory)
  auto down = on(event_trigger::round, 2, event_kind::edge_down);
  down.edge = 1;
  s.events = {down};
  const auto reference = run_federation(s);
  s.events.push_back(on(event_trigger::round, 3, event_kind::server_crash));
  const auto crashed = run_federation(s);
  CHECK(crashed.result.summary.model_sha256 == reference.result.summary.model_sha256);
  CHECK(crashed.result.model == reference.result.model);
  CHECK_FALSE(crashed.result.summary.interrupted);
  CHECK(crashed.result.summary.rounds == 5);
  CHECK(crashed.result.summary.clients_trained == reference.result.summary.clients_trained);
  REQUIRE(crashed.records.size() == 5);
  // Listed in the record of the round after which the server went down, once; edge 1 stays
  // down in the new server (the edge_down before the crash is in the checkpoint).
  for (size_t i = 0; i < 5; ++i) {
    const auto& r = crashed.records[i];
    CHECK(r.round == i + 1);
    CHECK(r.rerouted == reference.records[i].rerouted);
    CHECK(r.mean_loss == reference.records[i].mean_loss);
    const size_t crashes =
        std::count_if(r.events.begin(), r.events.end(),
                      [](const fired_event& f) { return f.kind == "server_crash"; });
    CHECK(crashes == (i == 1 ? 1u : 0u));
  }
  REQUIRE(crashed.records[1].events.size() == 2);
  CHECK(crashed.records[1].events[1].trigger == "round 3");
  CHECK(crashed.records[1].events[1].target == "server");
}

TEST_CASE(
    "a scripted server crash mid-stream (async, simulated clock): the resumed server "
    "resends the tasks in flight and ends as the uninterrupted run",
    "[host][events][checkpoint]") {
  auto s = small_async();
  const auto reference = run_federation(s);
  auto crash = on(event_trigger::step, 4, event_kind::server_crash);
  s.events = {crash};
  const auto crashed = run_federation(s);
  CHECK(crashed.result.summary.model_sha256 == reference.result.summary.model_sha256);
  CHECK(crashed.result.summary.total_updates == reference.result.summary.total_updates);
  CHECK(crashed.result.summary.stale_updates == reference.result.summary.stale_updates);
  CHECK_FALSE(crashed.result.summary.interrupted);
  REQUIRE(crashed.records.size() == reference.records.size());
  size_t crashes = 0;
  for (size_t i = 0; i < crashed.records.size(); ++i) {
    CHECK(crashed.records[i].mean_loss == reference.records[i].mean_loss);
    CHECK(crashed.records[i].sim_time_s == reference.records[i].sim_time_s);
    for (const auto& f : crashed.records[i].events) crashes += f.kind == "server_crash";
  }
  CHECK(crashes == 1);
}
