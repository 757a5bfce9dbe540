// Bringing your own algorithm from C++ (docs/strategies.md, "Writing your own"): a server
// optimizer, a staleness weight and a sampler written outside the library, handed to a
// federation, then a sync run and an async (FedBuff) run with them.
//
//   - clipped_sgd: server-side update clipping. The round's mean update Δ is scaled down to
//     an L2 norm of at most `bound` before the step (next = current + lr · Δ · min(1, bound/‖Δ‖)),
//     so one round with a huge aggregate cannot throw the model far. Its state (how often it
//     clipped) is saved and restored like a built-in optimizer's.
//   - a staleness weight 1 / (1 + s)²: stale updates count much less than with the tutorial's
//     0.9^s.
//   - prefer_large: a sampler that draws 2k candidates uniformly and keeps the k with the most
//     samples (O(k log k) per call, never O(population)).
//
//   ./build/custom_strategy        (prints each round, exits 0 when both runs finished)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include <caf/actor_system.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/scenario/load.hpp"
#include "runtime/strategy/server_optimizer.hpp"

namespace {

class clipped_sgd final : public fedactor::server_optimizer {
 public:
  clipped_sgd(size_t dim, double lr, double bound) : dim_(dim), lr_(lr), bound_(bound) {}

  const char* kind() const override { return "clipped_sgd"; }
  size_t dim() const override { return dim_; }

  void step(const float* current, const float* delta, float* next, size_t dim) override {
    if (dim != dim_) throw std::invalid_argument("clipped_sgd: wrong model size");
    double norm2 = 0;
    for (size_t i = 0; i < dim; ++i) norm2 += static_cast<double>(delta[i]) * delta[i];
    const double norm = std::sqrt(norm2);
    const double scale = norm > bound_ ? bound_ / norm : 1.0;
    if (scale < 1.0) ++clipped_;
    for (size_t i = 0; i < dim; ++i)
      next[i] = static_cast<float>(current[i] + lr_ * scale * static_cast<double>(delta[i]));
  }

  std::vector<char> save_state() const override {
    std::vector<char> out(sizeof clipped_);
    std::memcpy(out.data(), &clipped_, sizeof clipped_);
    return out;
  }
  void load_state(const char* data, size_t size) override {
    if (size != sizeof clipped_) throw std::invalid_argument("clipped_sgd: bad state");
    std::memcpy(&clipped_, data, size);
  }

  uint64_t clipped() const { return clipped_; }

 private:
  size_t dim_;
  double lr_;
  double bound_;
  uint64_t clipped_ = 0;
};

class prefer_large final : public fedactor::sampler {
 public:
  prefer_large(fedactor::client_registry& reg, uint64_t seed) : reg_(reg), rng_(seed) {}

  std::vector<fedactor::client_id> sample(uint32_t k, int32_t round,
                                          const exclude_fn& excluded) override {
    const uint64_t n = reg_.size();
    std::unordered_set<fedactor::client_id> picked;
    std::vector<fedactor::client_id> candidates;
    // 2k distinct eligible candidates (or as many as there are), drawn uniformly.
    const uint64_t want = std::min<uint64_t>(2ull * k, n);
    for (uint64_t tries = 0; candidates.size() < want && tries < 64 * want + 64; ++tries) {
      auto id = static_cast<fedactor::client_id>(rng_.below(n));
      if ((excluded && excluded(id)) || !picked.insert(id).second) continue;
      candidates.push_back(id);
    }
    if (candidates.size() < k)
      throw std::invalid_argument("prefer_large: too few eligible clients");
    std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(),
                      [&](auto a, auto b) {
                        return reg_.num_samples(a) > reg_.num_samples(b) ||
                               (reg_.num_samples(a) == reg_.num_samples(b) && a < b);
                      });
    candidates.resize(k);
    std::sort(candidates.begin(), candidates.end());
    for (auto id : candidates) reg_.mark_picked(id, round);
    return candidates;
  }

  size_t bytes() const override { return 0; }

 private:
  fedactor::client_registry& reg_;
  fedactor::rng rng_;
};

fedactor::scenario base(const char* name) {
  fedactor::scenario s;
  s.name = name;
  s.seed = 11;
  s.population.clients = 600;
  s.data.kind = fedactor::data_kind::teacher;
  s.model.hidden = {32};
  s.training.lr = 0.05;
  s.topology.edges = 4;
  s.selection.clients_per_round = 40;
  s.pool.max_live_clients = 40;
  s.protocol.rounds = 5;
  return s;
}

int run(fedactor::scenario s) {
  if (auto err = fedactor::validate(s)) {
    std::fprintf(stderr, "invalid scenario: %s\n", err->message.c_str());
    return 2;
  }
  fedactor::system_config cfg;
  caf::actor_system sys{cfg};
  fedactor::federation fl{sys, s};
  clipped_sgd* optimizer = nullptr;
  fl.set_server_optimizer([&](size_t dim) {
    auto opt = std::make_unique<clipped_sgd>(dim, 1.0, 0.2);
    optimizer = opt.get();
    return opt;
  });
  fl.set_sampler([](fedactor::client_registry& reg, uint64_t seed) {
    return std::make_unique<prefer_large>(reg, seed);
  });
  fl.set_staleness_weight([](uint64_t s) { return 1.0 / ((1.0 + s) * (1.0 + s)); });
  fl.on_round([](const fedactor::round_record& r) {
    std::printf("  %s %u: %u clients, mean loss %.4f\n", r.async ? "step" : "round", r.round,
                r.clients, r.mean_loss);
  });
  try {
    auto result = fl.run();
    std::printf("%s: final loss %.4f, clipped %llu of %u steps, model sha256 %s\n", s.name.c_str(),
                result.summary.final_loss,
                static_cast<unsigned long long>(optimizer ? optimizer->clipped() : 0),
                result.summary.rounds, result.summary.model_sha256.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run failed: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main() {
  if (int rc = run(base("custom-sync")); rc != 0) return rc;
  auto async = base("custom-async");
  async.protocol.mode = fedactor::protocol_mode::async;
  async.async.concurrency = 30;
  async.async.buffer_size = 10;
  async.async.aggregations = 8;
  return run(async);
}
