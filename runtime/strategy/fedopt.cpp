#include "runtime/strategy/fedopt.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "runtime/strategy/state_bytes.hpp"

namespace fedactor {

fedopt_optimizer::fedopt_optimizer(const server_optimizer_config& cfg, size_t dim,
                                   const std::vector<optimizer_key>& keys)
    : cfg_(cfg) {
  if (auto e = validate_keys(cfg, keys)) throw std::invalid_argument(e->message());
  if (dim == 0)
    throw std::invalid_argument("server optimizer: the model must have at least one value");
  m_.assign(dim, 0.0);
  v_.assign(dim, 0.0);
}

void fedopt_optimizer::step(const float* current, const float* mean_delta, float* next,
                            size_t dim) {
  if (dim != m_.size())
    throw std::invalid_argument(std::string(kind()) + ": step with dim " + std::to_string(dim) +
                                ", built for dim " + std::to_string(m_.size()));
  ++steps_;
  update(current, mean_delta, next);
}

std::vector<char> fedopt_optimizer::save_state() const {
  state_writer w(kind(), m_.size());
  w.put_u64(steps_);
  w.put_f64s(m_.data(), m_.size());
  w.put_f64s(v_.data(), v_.size());
  return w.take();
}

void fedopt_optimizer::load_state(const char* data, size_t size) {
  state_reader r(data, size, kind(), m_.size());
  const uint64_t steps = r.get_u64("the step count");
  std::vector<double> m(m_.size());
  std::vector<double> v(v_.size());
  r.get_f64s(m.data(), m.size(), "the first moments");
  r.get_f64s(v.data(), v.size(), "the second moments");
  r.finish();
  const std::string prefix = std::string("server optimizer state: ") + kind() + " ";
  for (size_t i = 0; i < m.size(); ++i) {
    if (!std::isfinite(m[i]))
      throw std::invalid_argument(prefix + "first moment " + std::to_string(i) + " is not finite");
    if (!std::isfinite(v[i]))
      throw std::invalid_argument(prefix + "second moment " + std::to_string(i) + " is not finite");
    if (v[i] < 0)
      throw std::invalid_argument(prefix + "second moment " + std::to_string(i) + " is negative");
  }
  steps_ = steps;
  m_.swap(m);
  v_.swap(v);
}

double power_by_squaring(double b, uint64_t n) {
  double r = 1.0;
  while (n > 0) {
    if (n & 1) r *= b;
    n >>= 1;
    if (n > 0) b *= b;
  }
  return r;
}

}  // namespace fedactor
