#include "runtime/strategy/fedyogi.hpp"

#include <cmath>
#include <memory>

namespace fedactor {

namespace {

// A function, not a namespace-scope vector: the registry may be built during another
// translation unit's static initialisation (a user registering a kind).
const std::vector<optimizer_key>& fedyogi_keys() {
  static const std::vector<optimizer_key> keys = {optimizer_key::server_lr, optimizer_key::beta1,
                                                  optimizer_key::beta2, optimizer_key::tau};
  return keys;
}

double sign(double x) {
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
}

}  // namespace

fedyogi_optimizer::fedyogi_optimizer(const server_optimizer_config& cfg, size_t dim)
    : fedopt_optimizer(cfg, dim, fedyogi_keys()) {}

void fedyogi_optimizer::update(const float* current, const float* mean_delta, float* next) {
  const double b1 = cfg_.beta1;
  const double b2 = cfg_.beta2;
  const double tau = cfg_.tau;
  const double eta = cfg_.server_lr;
  const size_t n = dim();
  for (size_t i = 0; i < n; ++i) {
    const double d = mean_delta[i];
    const double d2 = d * d;
    const double m = b1 * m_[i] + (1.0 - b1) * d;
    const double v = v_[i] - (1.0 - b2) * d2 * sign(v_[i] - d2);
    m_[i] = m;
    v_[i] = v;
    next[i] = static_cast<float>(static_cast<double>(current[i]) + eta * m / (std::sqrt(v) + tau));
  }
}

server_optimizer_info fedyogi_info() {
  server_optimizer_info info;
  info.kind = fedyogi_optimizer::kind_name;
  info.summary = "Yogi on the server (Reddi et al. 2021): additive, sign-controlled second moment";
  info.keys = fedyogi_keys();
  info.defaults.kind = info.kind;
  info.defaults.server_lr = 0.01;
  info.defaults.beta1 = 0.9;
  info.defaults.beta2 = 0.99;
  info.defaults.tau = 1e-3;
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<fedyogi_optimizer>(cfg, dim);
  };
  return info;
}

}  // namespace fedactor
