#include "actors/edge.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <variant>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/trainer.hpp"
#include "messages/errors.hpp"
#include "runtime/compression/update_compression.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/rng.hpp"
#include "tests/support/edge_helpers.hpp"
#include "tests/support/edge_res_counts.hpp"

using namespace fedactor;
using fedactor::testing::ask;
using fedactor::testing::failed;
using fedactor::testing::faulty_source;
using fedactor::testing::make_ins;
using fedactor::testing::make_task;
using fedactor::testing::succeeded;
using fedactor::testing::teacher_cfg;

namespace {

// The edge's answer to prepare_atom first..last: the number prepared, or the error's text.
std::variant<uint32_t, std::string> prepare(caf::scoped_actor& self, const local_edge_actor& e,
                                            uint32_t first, uint32_t last) {
  std::variant<uint32_t, std::string> out;
  self->request(e, std::chrono::seconds(60), prepare_atom::value, first, last)
      .receive([&](uint32_t n) { out = n; },
               [&](caf::error& err) {
                 CHECK(err == make_error(errc::bad_request, ""));
                 out = describe(err);
               });
  return out;
}

bool contains(const std::variant<uint32_t, std::string>& v, const std::string& text) {
  const auto* s = std::get_if<std::string>(&v);
  return s && s->find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("an edge's aggregate equals the weighted mean of its clients' deltas", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 2);
  auto e = spawn_edge(sys, edge_config{0, 4, data, trainers});
  std::vector<uint32_t> ids{1, 4, 9, 16, 25, 36, 49};
  auto ins = make_ins(spec, ids);
  auto start = ins.model.values();
  auto res = ask(sys, e, ins);
  REQUIRE(failed(res).total() == 0);
  REQUIRE(succeeded(res) == ids.size());
  auto acc = weighted_accumulator::deserialize(res.aggregate.data(), res.aggregate.size());
  REQUIRE(acc);

  // The same computation by hand: train each client directly, weight by samples.
  local_trainer t{spec};
  std::vector<double> sum(spec.num_params(), 0.0);
  double total = 0, loss = 0;
  for (auto id : ids) {
    local_train_config lc{1, 32, 0.05, 0.9, stream_key(5, rng_tag::shuffle, 1, id)};
    auto out = t.train(start, data->make(id), lc);
    for (size_t i = 0; i < sum.size(); ++i)
      sum[i] += out.num_samples * (double(out.params[i]) - start[i]);
    total += out.num_samples;
    loss += out.num_samples * out.mean_loss;
  }
  CHECK(acc->weight() == total);
  // The pool trains MLPs with the batched kernels: equal to LibTorch within float rounding.
  CHECK(acc->scalar_mean() == Approx(loss / total).epsilon(1e-6));
  auto mean = acc->mean();
  for (size_t i = 0; i < sum.size(); ++i) REQUIRE(mean[i] == Approx(sum[i] / total).margin(1e-6));
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("an edge keeps at most capacity client actors alive and evicts the least recent",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 2);
  auto e = spawn_edge(sys, edge_config{0, 3, data, trainers});
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 20; ++i) ids.push_back(i);
  auto res = ask(sys, e, make_ins(spec, ids));
  CHECK(succeeded(res) == 20);
  CHECK(res.peak_live_clients == 3);
  CHECK(res.live_clients == 3);
  CHECK(res.evictions == 17);
  // Client 19 was created last, after the last eviction: a round with it reuses the live
  // actor (no eviction); a round with client 0 (evicted long ago) evicts one more.
  auto again = make_ins(spec, {19});
  again.round = 2;
  auto res2 = ask(sys, e, again);
  CHECK(succeeded(res2) == 1);
  CHECK(res2.evictions == 17);
  auto old = make_ins(spec, {0});
  old.round = 3;
  auto res3 = ask(sys, e, old);
  CHECK(succeeded(res3) == 1);
  CHECK(res3.evictions == 18);
  CHECK(res3.live_clients == 3);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("an edge counts a throwing client and a rejected update as failures and goes on",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<faulty_source>();
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 1);
  auto e = spawn_edge(sys, edge_config{0, 8, data, trainers});
  auto res = ask(sys, e, make_ins(spec, {1, 2, 3, 4, 5}));
  CHECK(succeeded(res) == 3);
  CHECK(failed(res).total() == 2);
  CHECK(failed(res).of(failure_code::client_error) == 1);
  CHECK(failed(res).of(failure_code::invalid_update) == 1);
  REQUIRE(res.failures.size() == 2);
  std::string all = res.failures[0] + "\n" + res.failures[1];
  CHECK(all.find("client 2: training_failed: cannot build data: disk on fire") !=
        std::string::npos);
  CHECK(all.find("client 4: rejected update: claims 10 samples, registry says 100") !=
        std::string::npos);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("an edge counts clients whose trainer never answers as timed out", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  // A trainer that accepts every task and never answers.
  auto black_hole = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](train_task&) -> caf::result<train_res> {
      return self->make_response_promise<train_res>();
    }};
  });
  auto e = spawn_edge(sys, edge_config{0, 8, data, black_hole});
  auto ins = make_ins(spec, {1, 2, 3});
  ins.client_timeout_s = 0.05;
  auto res = ask(sys, e, ins);
  CHECK(succeeded(res) == 0);
  CHECK(failed(res).total() == 3);
  CHECK(failed(res).of(failure_code::timeout) == 3);
  REQUIRE_FALSE(res.failures.empty());
  CHECK(res.failures[0].find("request_timeout") != std::string::npos);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(black_hole, caf::exit_reason::user_shutdown);
}

TEST_CASE("an edge refuses a round or a task naming a client outside the population", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 1);
  edge_config ec{3, 4, data, trainers};
  ec.population = 50;
  auto e = spawn_edge(sys, ec);
  caf::scoped_actor self{sys};
  std::string refused;
  self->request(e, std::chrono::seconds(60), make_ins(spec, {1, 49, 50}))
      .receive([&](edge_res&) { FAIL("a round with client 50 of 50 was trained"); },
               [&](caf::error& err) {
                 CHECK(err == make_error(errc::bad_request));
                 refused = describe(err);
               });
  CHECK(refused.find("edge 3: client 50 outside the population 0-49") != std::string::npos);
  refused.clear();
  self->request(e, std::chrono::seconds(60), make_task(spec, 1, 4000000000u))
      .receive([&](async_res&) { FAIL("a task for client 4000000000 was trained"); },
               [&](caf::error& err) { refused = describe(err); });
  CHECK(refused.find("client 4000000000 outside the population 0-49") != std::string::npos);
  // Within the population the edge trains as before.
  auto res = ask(sys, e, make_ins(spec, {0, 49}));
  CHECK(succeeded(res) == 2);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE(
    "an edge with a clip bound folds its clients' clipped deltas with weight 1 and refuses "
    "a clip bound that is not a number >= 0",
    "[actors][privacy]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 2);
  auto e = spawn_edge(sys, edge_config{0, 4, data, trainers});
  const std::vector<uint32_t> ids{1, 4, 9, 16, 25};
  auto ins = make_ins(spec, ids);
  const auto start = ins.model.values();

  // By hand: each client's Δ and its norm; C halfway between the 2nd and 3rd smallest norms,
  // so that exactly two updates are unclipped.
  local_trainer t{spec};
  std::vector<std::vector<double>> deltas;
  std::vector<double> norms;
  for (auto id : ids) {
    local_train_config lc{1, 32, 0.05, 0.9, stream_key(5, rng_tag::shuffle, 1, id)};
    auto out = t.train(start, data->make(id), lc);
    std::vector<double> d(start.size());
    double sq = 0;
    for (size_t i = 0; i < d.size(); ++i) {
      d[i] = double(out.params[i]) - start[i];
      sq += d[i] * d[i];
    }
    deltas.push_back(std::move(d));
    norms.push_back(std::sqrt(sq));
  }
  auto sorted = norms;
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(sorted[2] > sorted[1] * 1.001);
  const double clip = (sorted[1] + sorted[2]) / 2;
  std::vector<double> sum(start.size(), 0.0);
  for (size_t c = 0; c < ids.size(); ++c)
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += deltas[c][i] * std::min(1.0, clip / norms[c]);

  ins.clip = clip;
  auto res = ask(sys, e, ins);
  REQUIRE(succeeded(res) == ids.size());
  CHECK(res.unclipped == 2);
  auto acc = weighted_accumulator::deserialize(res.aggregate.data(), res.aggregate.size());
  REQUIRE(acc);
  CHECK(acc->weight() == 5.0);
  std::vector<double> got(start.size());
  acc->sum_into(got.data());
  for (size_t i = 0; i < sum.size(); ++i) REQUIRE(got[i] == Approx(sum[i]).margin(1e-5));

  caf::scoped_actor self{sys};
  for (double bad :
       {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    auto wrong = make_ins(spec, {1});
    wrong.clip = bad;
    std::string refused;
    self->request(e, std::chrono::seconds(60), wrong)
        .receive([&](edge_res&) { FAIL("a round with clip bound " << bad << " was trained"); },
                 [&](caf::error& err) {
                   CHECK(err == make_error(errc::bad_request));
                   refused = describe(err);
                 });
    CHECK(refused.find("edge 0: clip bound") != std::string::npos);
  }
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

namespace {

// A stand-in client host: every task is answered with the model + 0.25, compressed with the
// task's settings, then damaged per client: 1 well formed, 2 one byte short, 3 claiming another
// int8 block size (its block count does not match the model's), 4 not compressed at all.
client_actor::behavior_type compressed_sender(client_actor::pointer,
                                              std::shared_ptr<const data_source> data) {
  return {[data](train_ins& ins) -> train_res {
    train_res r;
    r.round = ins.round;
    r.client = ins.client;
    r.model_version = ins.model_version;
    r.num_samples = data->num_samples(ins.client);
    r.loss = 0.5;
    std::vector<float> params(ins.model.values());
    for (auto& p : params) p += 0.25f;
    auto packed = compress_update(ins.settings.compression, ins.model.data(), params.data(),
                                  params.size(), nullptr, compression_stream(ins.task_seed));
    if (ins.client == 2) packed.bytes.pop_back();
    if (ins.client == 3) {  // block size 256 (00 01 00 00) becomes 128 (80 00 00 00)
      packed.bytes[5] = static_cast<char>(0x80);
      packed.bytes[6] = 0;
    }
    if (ins.client == 4) {
      packed.bytes.clear();
      r.params = param_blob{params};
    }
    r.update = std::move(packed.bytes);
    return r;
  }};
}

}  // namespace

TEST_CASE("an edge decodes compressed updates and refuses malformed ones with a reason",
          "[actors][compression]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<teacher_source>(teacher_cfg(), 5);
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 1);
  auto host = sys.spawn(compressed_sender, std::shared_ptr<const data_source>{data});
  edge_config ec{0, 8, data, trainers};
  ec.provider = [host](uint32_t) { return host; };
  auto e = spawn_edge(sys, ec);
  auto ins = make_ins(spec, {1, 2, 3, 4});
  ins.settings.compression.kind = compression_kind::int8;
  ins.settings.compression.block = 256;
  const size_t n = ins.model.size();
  const size_t full = encoded_update_bytes(ins.settings.compression, n);
  auto res = ask(sys, e, ins);
  CHECK(succeeded(res) == 1);
  CHECK(failed(res).of(failure_code::invalid_update) == 3);
  std::string all;
  for (auto& f : res.failures) all += f + "\n";
  INFO(all);
  CHECK(all.find("client 2: rejected update: compressed update of " + std::to_string(full - 1) +
                 " bytes, expected " + std::to_string(full) + " (int8, " + std::to_string(n) +
                 " values)") != std::string::npos);
  CHECK(all.find("client 3: rejected update: int8 blocks of 128 values, expected 256") !=
        std::string::npos);
  CHECK(all.find("client 4: rejected update: an uncompressed update, expected int8") !=
        std::string::npos);
  // Every update that arrived is counted, refused or not.
  CHECK(res.updates_received == 4);
  CHECK(res.update_bytes == 2 * full + (full - 1) + 4 * n);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("an edge builds a range's client data before a round and refuses what it cannot hold",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<faulty_source>();
  model_spec spec;
  auto trainers = spawn_trainer_pool(sys, spec, 2);
  edge_config ec{0, 4, data, trainers};
  ec.population = 10;
  auto e = spawn_edge(sys, ec);
  caf::scoped_actor self{sys};
  // Client 2's data cannot be built: three of the four are prepared, each dataset built once.
  CHECK(std::get<uint32_t>(prepare(self, e, 0, 3)) == 3);
  CHECK(data->made == 4);
  // The round trains the prepared clients without building their data again or evicting.
  auto res = ask(sys, e, make_ins(spec, {0, 1, 3}));
  CHECK(succeeded(res) == 3);
  CHECK(data->made == 4);
  CHECK(res.live_clients == 4);
  CHECK(res.evictions == 0);
  // Client 2 is tried again on its first task, as an unprepared client would be.
  auto again = make_ins(spec, {2});
  again.round = 2;
  CHECK(failed(ask(sys, e, again)).total() == 1);
  CHECK(data->made == 5);
  // Preparing again builds nothing that is built already.
  CHECK(std::get<uint32_t>(prepare(self, e, 0, 1)) == 2);
  CHECK(data->made == 5);
  CHECK(contains(prepare(self, e, 0, 4), "preparing clients 0-4: more than the 4 live clients"));
  CHECK(contains(prepare(self, e, 8, 10), "client 10 outside the population 0-9"));
  CHECK(contains(prepare(self, e, 3, 2), "preparing clients 3-2: an empty range"));
  CHECK(data->made == 5);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("an edge prepares no clients that train on hosts or while a round is in progress",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto data = std::make_shared<faulty_source>();
  model_spec spec;
  // A trainer that accepts every task and never answers: the round stays in progress.
  auto black_hole = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](train_task&) -> caf::result<train_res> {
      return self->make_response_promise<train_res>();
    }};
  });
  caf::scoped_actor self{sys};
  // Clients 2 and up train on a (stand-in) client host.
  auto host = sys.spawn([]() -> client_actor::behavior_type {
    return {[](train_ins&) -> caf::result<train_res> { return train_res{}; }};
  });
  edge_config hosted{0, 8, data, black_hole};
  hosted.provider = [host](uint32_t id) { return id >= 2 ? host : client_actor{}; };
  auto h = spawn_edge(sys, hosted);
  CHECK(std::get<uint32_t>(prepare(self, h, 0, 1)) == 2);
  CHECK(
      contains(prepare(self, h, 1, 3), "preparing clients 1-3: client 2 trains on a client host"));
  auto e = spawn_edge(sys, edge_config{0, 8, data, black_hole});
  // Messages from one sender arrive in order: the round is in progress when prepare arrives.
  self->send(e, make_ins(spec, {1}));
  CHECK(contains(prepare(self, e, 0, 1), "preparing clients 0-1: round 1 is in progress"));
  caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(black_hole, caf::exit_reason::user_shutdown);
}
