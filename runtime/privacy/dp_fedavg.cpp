#include "runtime/privacy/dp_fedavg.hpp"

#include <cmath>
#include <stdexcept>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

dp_fedavg::dp_fedavg(const privacy_config& cfg, uint64_t seed, uint32_t clients_per_round)
    : cfg_(cfg),
      seed_(seed),
      k_(static_cast<double>(clients_per_round)),
      delta_(cfg.delta),
      clip_(cfg.clip),
      z_update_(cfg.noise_multiplier) {
  if (cfg.mode != privacy_mode::dp_fedavg)
    throw std::invalid_argument("dp_fedavg: privacy.mode is not dp_fedavg");
  if (clients_per_round == 0) throw std::invalid_argument("dp_fedavg: no clients per round");
  if (!(cfg.clip > 0) || !std::isfinite(cfg.clip))
    throw std::invalid_argument("dp_fedavg: the clip bound must be > 0");
  const double z = cfg.noise_multiplier;
  if (cfg.clipping == clipping_kind::adaptive && z > 0) {
    const double two_sb = 2 * cfg.quantile_noise;
    if (!(two_sb > z))
      throw std::invalid_argument("dp_fedavg: adaptive clipping needs quantile_noise > z / 2");
    z_update_ = 1 / std::sqrt(1 / (z * z) - 1 / (two_sb * two_sb));
  }
}

void dp_fedavg::release(const weighted_accumulator& acc, uint32_t round, float* out) const {
  const size_t n = acc.dim();
  std::vector<double> sum(n);
  acc.sum_into(sum.data());
  const double std_dev = z_update_ * clip_;
  rng noise(stream_key(seed_, rng_tag::dp_noise, round));
  for (size_t i = 0; i < n; ++i) {
    const double v = std_dev > 0 ? sum[i] + std_dev * noise.normal() : sum[i];
    out[i] = static_cast<float>(v / k_);
  }
}

dp_round dp_fedavg::end_round(uint32_t round, uint64_t unclipped, double q) {
  dp_round r;
  r.clip = clip_;
  r.noise_std = z_update_ * clip_;
  if (cfg_.clipping == clipping_kind::adaptive) {
    rng noise(stream_key(seed_, rng_tag::dp_count, round));
    const double b = (static_cast<double>(unclipped) + cfg_.quantile_noise * noise.normal()) / k_;
    clip_ *= std::exp(-cfg_.clip_lr * (b - cfg_.target_quantile));
    // Never 0 (which the edges read as "no clipping") nor infinite, however long the run.
    clip_ = std::min(std::max(clip_, min_clip), max_clip);
  }
  accountant_.add_steps(std::min(1.0, std::max(0.0, q)), cfg_.noise_multiplier);
  r.next_clip = clip_;
  r.delta = delta_;
  r.epsilon = spent().epsilon;
  return r;
}

std::vector<char> dp_fedavg::save_state() const {
  byte_writer w;
  w.put_f64(clip_);
  w.put_bytes(accountant_.save());
  return w.take();
}

void dp_fedavg::load_state(const std::vector<char>& bytes, const std::string& what) {
  byte_reader r(bytes.data(), bytes.size(), what);
  const double clip = r.get_f64("clip bound");
  if (!(clip >= min_clip && clip <= max_clip)) r.fail("a clip bound outside [1e-30, 1e30]");
  const auto totals = r.get_bytes("privacy accountant");
  r.finish();
  rdp_accountant acc;
  acc.load(totals.data(), totals.size(), what + " privacy accountant");
  clip_ = clip;
  accountant_ = std::move(acc);
}

}  // namespace fedactor
