#include "runtime/strategy/fedadam.hpp"

#include <cmath>
#include <memory>

namespace fedactor {

namespace {

// A function, not a namespace-scope vector: the registry may be built during another
// translation unit's static initialisation (a user registering a kind).
const std::vector<optimizer_key>& fedadam_keys() {
  static const std::vector<optimizer_key> keys = {optimizer_key::server_lr, optimizer_key::beta1,
                                                  optimizer_key::beta2, optimizer_key::tau,
                                                  optimizer_key::bias_correction};
  return keys;
}

}  // namespace

fedadam_optimizer::fedadam_optimizer(const server_optimizer_config& cfg, size_t dim)
    : fedopt_optimizer(cfg, dim, fedadam_keys()) {}

double fedadam_optimizer::step_size(uint64_t t) const {
  if (!cfg_.bias_correction) return cfg_.server_lr;
  // β₁, β₂ in [0, 1) and t >= 1, so both factors are in (0, 1].
  return cfg_.server_lr * std::sqrt(1.0 - power_by_squaring(cfg_.beta2, t)) /
         (1.0 - power_by_squaring(cfg_.beta1, t));
}

void fedadam_optimizer::update(const float* current, const float* mean_delta, float* next) {
  const double b1 = cfg_.beta1;
  const double b2 = cfg_.beta2;
  const double tau = cfg_.tau;
  const double eta = step_size(steps());
  const size_t n = dim();
  for (size_t i = 0; i < n; ++i) {
    const double d = mean_delta[i];
    const double m = b1 * m_[i] + (1.0 - b1) * d;
    const double v = b2 * v_[i] + (1.0 - b2) * (d * d);
    m_[i] = m;
    v_[i] = v;
    next[i] = static_cast<float>(static_cast<double>(current[i]) + eta * m / (std::sqrt(v) + tau));
  }
}

server_optimizer_info fedadam_info() {
  server_optimizer_info info;
  info.kind = fedadam_optimizer::kind_name;
  info.summary = "Adam on the server (Reddi et al. 2021), bias-corrected step size as in Flower";
  info.keys = fedadam_keys();
  info.defaults.kind = info.kind;
  info.defaults.server_lr = 0.1;
  info.defaults.beta1 = 0.9;
  info.defaults.beta2 = 0.99;
  info.defaults.tau = 1e-3;
  info.defaults.bias_correction = true;
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<fedadam_optimizer>(cfg, dim);
  };
  return info;
}

}  // namespace fedactor
