#include "runtime/privacy/update_clip.hpp"

#include "runtime/math/update_norm.hpp"

namespace fedactor {

clipped_update clip_difference(const float* params, const float* model, size_t n, double clip,
                               float* out) {
  clipped_update r;
  for (size_t i = 0; i < n; ++i) out[i] = params[i] - model[i];
  // The same norm and factor as robust.norm_bound's clip (runtime/math/update_norm.hpp).
  r.norm = l2_norm(out, n);
  if (!r.finite()) return r;
  r.within = r.norm <= clip;
  if (r.within) return r;
  r.scale = clip_factor(r.norm, clip);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(out[i]) * r.scale);
  return r;
}

}  // namespace fedactor
