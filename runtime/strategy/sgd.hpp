#pragma once

// sgd: the plain server step, next = current + η·Δ with η = strategy.server_lr. With η = 1 the
// model becomes the weighted mean of the client models: FedAvg (McMahan et al., 2017). This is
// what the server did before the optimizer seam, bit for bit:
//   next[i] = float(double(current[i]) + η · double(Δ[i]))
// No state beyond the kind and dim. Matches Flower's FedAvg (η = 1) and FedAvgM with
// server_momentum 0 (any η), up to Flower's float32 arithmetic.

#include <cstddef>
#include <vector>

#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {

class sgd_optimizer final : public server_optimizer {
 public:
  static constexpr const char* kind_name = "sgd";

  // Reads strategy.server_lr. Throws std::invalid_argument for a bad server_lr or dim 0.
  sgd_optimizer(const server_optimizer_config& cfg, size_t dim);

  const char* kind() const override { return kind_name; }
  size_t dim() const override { return dim_; }
  void step(const float* current, const float* mean_delta, float* next, size_t dim) override;
  std::vector<char> save_state() const override;
  void load_state(const char* data, size_t size) override;

 private:
  double lr_;
  size_t dim_;
};

// Registry entry: keys {strategy.server_lr}, default server_lr 1 (FedAvg).
server_optimizer_info sgd_info();

}  // namespace fedactor
