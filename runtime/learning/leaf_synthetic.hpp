#pragma once

// data.kind leaf_synthetic: the synthetic(alpha, beta) task of FedProx / LEAF
// (Li et al., "Federated Optimization in Heterogeneous Networks"), built per client on
// demand, deterministic in (seed, client id). For client k:
//   size  = 50 + floor(lognormal(4, 2)), at most leaf_max_samples
//   u_k ~ N(0, alpha), B_k ~ N(0, beta), v_k[j] ~ N(B_k, 1)          (input mean)
//   W_k[j][c] ~ N(u_k, 1), b_k[c] ~ N(u_k, 1)                        (the client's model)
//   x ~ N(v_k, diag(j^-1.2)), j = 1..60;  y = argmax(W_k^T x + b_k)
// 60 features, 10 classes (data.features and data.classes do not apply).

#include <cstdint>

#include "runtime/learning/data_source.hpp"

namespace fedactor {

constexpr uint32_t leaf_dimension = 60;
constexpr uint32_t leaf_classes = 10;
constexpr uint32_t leaf_min_samples = 50;
constexpr uint32_t leaf_max_samples = 100000;  // cap on the lognormal's long tail

class leaf_synthetic_source : public data_source {
 public:
  leaf_synthetic_source(const data_config& cfg, uint64_t seed)
      : alpha_(cfg.alpha), beta_(cfg.beta), seed_(seed) {}
  uint32_t num_samples(uint64_t client) const override;
  client_dataset make(uint64_t client) const override;
  uint32_t features() const override { return leaf_dimension; }
  uint32_t classes() const override { return leaf_classes; }

 private:
  double alpha_;
  double beta_;
  uint64_t seed_;
};

}  // namespace fedactor
