#include "runtime/strategy/sgd.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include "runtime/strategy/state_bytes.hpp"

namespace fedactor {

namespace {

// A function, not a namespace-scope vector: the registry may be built during another
// translation unit's static initialisation (a user registering a kind).
const std::vector<optimizer_key>& sgd_keys() {
  static const std::vector<optimizer_key> keys = {optimizer_key::server_lr};
  return keys;
}

}  // namespace

sgd_optimizer::sgd_optimizer(const server_optimizer_config& cfg, size_t dim)
    : lr_(cfg.server_lr), dim_(dim) {
  if (auto e = validate_keys(cfg, sgd_keys())) throw std::invalid_argument(e->message());
  if (dim == 0) throw std::invalid_argument("sgd: the model must have at least one value");
}

void sgd_optimizer::step(const float* current, const float* mean_delta, float* next, size_t dim) {
  if (dim != dim_)
    throw std::invalid_argument("sgd: step with dim " + std::to_string(dim) + ", built for dim " +
                                std::to_string(dim_));
  // The formula the server and fedbuff::step used before the seam; keep it bit for bit.
  for (size_t i = 0; i < dim; ++i)
    next[i] = static_cast<float>(static_cast<double>(current[i]) +
                                 lr_ * static_cast<double>(mean_delta[i]));
}

std::vector<char> sgd_optimizer::save_state() const {
  return state_writer(kind_name, dim_).take();
}

void sgd_optimizer::load_state(const char* data, size_t size) {
  state_reader(data, size, kind_name, dim_).finish();
}

server_optimizer_info sgd_info() {
  server_optimizer_info info;
  info.kind = sgd_optimizer::kind_name;
  info.summary = "next = current + server_lr * mean delta (server_lr 1 = FedAvg)";
  info.keys = sgd_keys();
  info.defaults.kind = info.kind;
  info.defaults.server_lr = 1.0;
  info.make = [](const server_optimizer_config& cfg, size_t dim) {
    return std::make_unique<sgd_optimizer>(cfg, dim);
  };
  return info;
}

}  // namespace fedactor
