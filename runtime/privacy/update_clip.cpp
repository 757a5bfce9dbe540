#include "runtime/privacy/update_clip.hpp"

#include <cmath>

namespace fedactor {

clipped_update clip_difference(const float* params, const float* model, size_t n, double clip,
                               float* out) {
  clipped_update r;
  double sq = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = params[i] - model[i];
    out[i] = d;
    sq += static_cast<double>(d) * static_cast<double>(d);
  }
  r.norm = std::sqrt(sq);
  if (!r.finite()) return r;
  r.within = r.norm <= clip;
  if (r.within) return r;
  r.scale = clip / r.norm;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(out[i]) * r.scale);
  return r;
}

}  // namespace fedactor
