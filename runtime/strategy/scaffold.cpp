// SCAFFOLD's control-variate arithmetic (see the header).

#include "runtime/strategy/scaffold.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace fedactor {

namespace {

void check_sizes(const char* what, size_t a, size_t b) {
  if (a != b)
    throw std::invalid_argument(std::string(what) + ": vectors of " + std::to_string(a) + " and " +
                                std::to_string(b) + " values");
}

std::vector<float> difference(const char* what, const std::vector<float>& a,
                              const std::vector<float>& b) {
  check_sizes(what, a.size(), b.size());
  std::vector<float> out(a.size());
  for (size_t j = 0; j < a.size(); ++j) out[j] = a[j] - b[j];
  return out;
}

}  // namespace

std::vector<float> control_correction(const std::vector<float>& c, const std::vector<float>& c_i) {
  return difference("control_correction", c, c_i);
}

std::vector<float> control_update(const std::vector<float>& c_i, const std::vector<float>& c,
                                  const std::vector<float>& x_start,
                                  const std::vector<float>& y_end, uint32_t steps,
                                  double local_lr) {
  check_sizes("control_update", c_i.size(), c.size());
  check_sizes("control_update", c_i.size(), x_start.size());
  check_sizes("control_update", c_i.size(), y_end.size());
  if (steps == 0) throw std::invalid_argument("control_update: no local steps");
  if (!(local_lr > 0) || !std::isfinite(local_lr))
    throw std::invalid_argument("control_update: local_lr must be finite and > 0");
  const double k_lr = static_cast<double>(steps) * local_lr;
  std::vector<float> out(c_i.size());
  for (size_t j = 0; j < out.size(); ++j) {
    const double drift = (double{x_start[j]} - double{y_end[j]}) / k_lr;
    out[j] = static_cast<float>((double{c_i[j]} - double{c[j]}) + drift);
  }
  return out;
}

std::vector<float> control_delta(const std::vector<float>& c_i_new, const std::vector<float>& c_i) {
  return difference("control_delta", c_i_new, c_i);
}

void server_control_step(std::vector<float>& c, const std::vector<float>& mean_delta_c,
                         uint64_t sampled, uint64_t population) {
  check_sizes("server_control_step", c.size(), mean_delta_c.size());
  if (sampled == 0 || sampled > population)
    throw std::invalid_argument("server_control_step: sampled must be in [1, population] (got " +
                                std::to_string(sampled) + " of " + std::to_string(population) +
                                ")");
  const double share = static_cast<double>(sampled) / static_cast<double>(population);
  for (size_t j = 0; j < c.size(); ++j)
    c[j] = static_cast<float>(double{c[j]} + share * double{mean_delta_c[j]});
}

}  // namespace fedactor
