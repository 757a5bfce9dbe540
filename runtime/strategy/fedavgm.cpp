#include "runtime/strategy/fedavgm.hpp"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "runtime/strategy/state_bytes.hpp"

namespace fedactor {

namespace {

// A function, not a namespace-scope vector: the registry may be built during another
// translation unit's static initialisation (a user registering a kind).
const std::vector<optimizer_key>& fedavgm_keys() {
  static const std::vector<optimizer_key> keys = {optimizer_key::server_lr,
                                                  optimizer_key::momentum};
  return keys;
}

}  // namespace

fedavgm_optimizer::fedavgm_optimizer(const server_optimizer_config& cfg, size_t dim)
    : lr_(cfg.server_lr), momentum_(cfg.momentum) {
  if (auto e = validate_keys(cfg, fedavgm_keys())) throw std::invalid_argument(e->message());
  if (dim == 0) throw std::invalid_argument("fedavgm: the model must have at least one value");
  v_.assign(dim, 0.0);
}

void fedavgm_optimizer::step(const float* current, const float* mean_delta, float* next,
                             size_t dim) {
  if (dim != v_.size())
    throw std::invalid_argument("fedavgm: step with dim " + std::to_string(dim) +
                                ", built for dim " + std::to_string(v_.size()));
  const bool first = steps_ == 0;
  for (size_t i = 0; i < dim; ++i) {
    const double d = mean_delta[i];
    const double v = first ? d : momentum_ * v_[i] + d;
    v_[i] = v;
    next[i] = static_cast<float>(static_cast<double>(current[i]) + lr_ * v);
  }
  ++steps_;
}

std::vector<char> fedavgm_optimizer::save_state() const {
  state_writer w(kind_name, v_.size());
  w.put_u64(steps_);
  w.put_f64s(v_.data(), v_.size());
  return w.take();
}

void fedavgm_optimizer::load_state(const char* data, size_t size) {
  state_reader r(data, size, kind_name, v_.size());
  const uint64_t steps = r.get_u64("the step count");
  std::vector<double> v(v_.size());
  r.get_f64s(v.data(), v.size(), "the momentum values");
  r.finish();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw std::invalid_argument("server optimizer state: fedavgm momentum value " +
                                  std::to_string(i) + " is not finite");
  steps_ = steps;
  v_.swap(v);
}

server_optimizer_info fedavgm_info() {
  server_optimizer_info info;
  info.kind = fedavgm_optimizer::kind_name;
  info.summary =
      "FedAvg with server momentum: v = momentum * v + delta, next = current + "
      "server_lr * v";
  info.keys = fedavgm_keys();
  info.defaults.kind = info.kind;
  info.defaults.server_lr = 1.0;
  info.defaults.momentum = 0.9;
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<fedavgm_optimizer>(cfg, dim);
  };
  return info;
}

}  // namespace fedactor
