#include "runtime/strategy/fedadagrad.hpp"

#include <cmath>
#include <memory>

namespace fedactor {

namespace {

// A function, not a namespace-scope vector: the registry may be built during another
// translation unit's static initialisation (a user registering a kind).
const std::vector<optimizer_key>& fedadagrad_keys() {
  static const std::vector<optimizer_key> keys = {optimizer_key::server_lr, optimizer_key::beta1,
                                                  optimizer_key::tau};
  return keys;
}

}  // namespace

fedadagrad_optimizer::fedadagrad_optimizer(const server_optimizer_config& cfg, size_t dim)
    : fedopt_optimizer(cfg, dim, fedadagrad_keys()) {}

void fedadagrad_optimizer::update(const float* current, const float* mean_delta, float* next) {
  const double b1 = cfg_.beta1;
  const double tau = cfg_.tau;
  const double eta = cfg_.server_lr;
  const size_t n = dim();
  for (size_t i = 0; i < n; ++i) {
    const double d = mean_delta[i];
    const double m = b1 * m_[i] + (1.0 - b1) * d;
    const double v = v_[i] + d * d;
    m_[i] = m;
    v_[i] = v;
    next[i] = static_cast<float>(static_cast<double>(current[i]) + eta * m / (std::sqrt(v) + tau));
  }
}

server_optimizer_info fedadagrad_info() {
  server_optimizer_info info;
  info.kind = fedadagrad_optimizer::kind_name;
  info.summary = "Adagrad on the server (Reddi et al. 2021): second moment sums every delta^2";
  info.keys = fedadagrad_keys();
  info.defaults.kind = info.kind;
  info.defaults.server_lr = 0.1;
  info.defaults.beta1 = 0.0;
  info.defaults.tau = 1e-3;
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<fedadagrad_optimizer>(cfg, dim);
  };
  return info;
}

}  // namespace fedactor
