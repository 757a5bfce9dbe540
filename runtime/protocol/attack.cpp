#include "runtime/protocol/attack.hpp"

#include <cmath>
#include <limits>

#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr uint64_t attacker_tag = 0x61747461636b;  // "attack"
constexpr uint64_t backdoor_tag = 0x6264646f6f72;  // "bddoor"

}  // namespace

bool is_malicious(const attack_config& a, uint64_t client) {
  if (a.kind == attack_kind::none || !(a.fraction > 0)) return false;
  rng r(stream_key(a.seed, attacker_tag, client));
  return r.uniform() < a.fraction;
}

std::vector<float> backdoor_direction(const attack_config& a, size_t n) {
  std::vector<float> d(n);
  if (n == 0) return d;
  const float v = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  rng r(stream_key(a.seed, backdoor_tag));
  for (auto& x : d) x = (r.next() & 1) ? v : -v;
  return d;
}

std::vector<float> attacked_params(const attack_config& a, const float* params, const float* model,
                                   size_t n) {
  std::vector<float> out(params, params + n);
  const double s = a.scale;
  switch (a.kind) {
    case attack_kind::scale:
    case attack_kind::sign_flip: {
      const double f = a.kind == attack_kind::scale ? s : -s;
      for (size_t i = 0; i < n; ++i) {
        const float delta = params[i] - model[i];
        out[i] = model[i] + static_cast<float>(f * static_cast<double>(delta));
      }
      break;
    }
    case attack_kind::nan:
      for (auto& x : out) x = std::numeric_limits<float>::quiet_NaN();
      break;
    case attack_kind::backdoor: {
      const auto d = backdoor_direction(a, n);
      for (size_t i = 0; i < n; ++i)
        out[i] = params[i] + static_cast<float>(s * static_cast<double>(d[i]));
      break;
    }
    case attack_kind::label_flip:
    case attack_kind::none:
      break;
  }
  return out;
}

}  // namespace fedactor
