#include "runtime/learning/model_spec.hpp"

#include <cmath>

#include "runtime/math/rng.hpp"

namespace fedactor {

std::vector<uint32_t> model_spec::widths() const {
  std::vector<uint32_t> w;
  w.reserve(hidden.size() + 2);
  w.push_back(inputs);
  w.insert(w.end(), hidden.begin(), hidden.end());
  w.push_back(classes);
  return w;
}

size_t model_spec::num_params() const {
  auto w = widths();
  size_t n = 0;
  for (size_t i = 0; i + 1 < w.size(); ++i) n += static_cast<size_t>(w[i]) * w[i + 1] + w[i + 1];
  return n;
}

std::vector<float> initial_params(const model_spec& spec, uint64_t seed) {
  std::vector<float> out;
  out.reserve(spec.num_params());
  rng r{stream_key(seed, rng_tag::model_init)};
  auto w = spec.widths();
  for (size_t l = 0; l + 1 < w.size(); ++l) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(w[l]));
    const size_t count = static_cast<size_t>(w[l]) * w[l + 1] + w[l + 1];
    for (size_t i = 0; i < count; ++i)
      out.push_back(static_cast<float>((2.0 * r.uniform() - 1.0) * bound));
  }
  return out;
}

}  // namespace fedactor
