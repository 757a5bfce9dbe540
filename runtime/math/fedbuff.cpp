#include "runtime/math/fedbuff.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/staleness.hpp"

namespace fedactor {

namespace {

constexpr double scale = 4294967296.0;  // 2^32, the accumulator's fixed-point unit

// v·2^32 rounded to an integer; |v| <= weighted_accumulator::max_term.
__int128 to_fixed(double v) {
  return std::llrint(v * scale);
}

double from_fixed(__int128 v) {
  return static_cast<double>(v) / scale;
}

}  // namespace

const char* to_string(offer_result x) {
  switch (x) {
    case offer_result::folded:
      return "folded";
    case offer_result::aggregated:
      return "aggregated";
    case offer_result::stale:
      return "stale";
    case offer_result::rejected:
      return "rejected";
  }
  return "?";
}

fedbuff::fedbuff(std::vector<float> initial_model, const async_config& cfg,
                 std::unique_ptr<server_optimizer> optimizer, staleness_weight weight,
                 size_t trainable)
    : cfg_(cfg),
      optimizer_(std::move(optimizer)),
      weight_(weight ? std::move(weight) : make_staleness_weight(cfg.decay)),
      trainable_(trainable == 0 || trainable > initial_model.size() ? initial_model.size()
                                                                    : trainable) {
  if (initial_model.empty()) throw std::invalid_argument("fedbuff needs a non-empty model");
  if (!optimizer_) throw std::invalid_argument("fedbuff needs a server optimizer");
  if (optimizer_->dim() != trainable_)
    throw std::invalid_argument("fedbuff: the server optimizer is built for " +
                                std::to_string(optimizer_->dim()) + " values, the model has " +
                                std::to_string(trainable_) + " parameters");
  if (cfg.buffer_size == 0) throw std::invalid_argument("async.buffer_size must be >= 1");
  if (cfg.staleness_threshold > max_staleness_threshold)
    throw std::invalid_argument("async.staleness_threshold must be <= " +
                                std::to_string(max_staleness_threshold));
  const size_t dim = initial_model.size();
  history_.push_back(std::move(initial_model));
  acc_ = weighted_accumulator(dim);
  histogram_.assign(cfg.staleness_threshold + 1, 0);
  delta_.resize(dim);
}

const std::vector<float>* fedbuff::model_at(uint64_t version) const {
  if (version > version_) return nullptr;
  const uint64_t back = version_ - version;  // 0 = current
  if (back >= history_.size()) return nullptr;
  return &history_[history_.size() - 1 - back];
}

offer_result fedbuff::offer(const fedbuff_update& u) {
  const std::vector<float>& current = model();
  const size_t dim = current.size();
  bool valid =
      u.params != nullptr && u.size == dim && u.num_samples > 0 && u.base_version <= version_ &&
      std::isfinite(u.loss) &&
      std::fabs(static_cast<double>(u.num_samples) * u.loss) <= weighted_accumulator::max_term;
  // Non-finite parameters need no pass of their own: they make Δ non-finite, and the
  // accumulator refuses (and counts here as rejected) any non-finite or out-of-range term.
  if (!valid) {
    ++stats_.rejected_updates;
    return offer_result::rejected;
  }
  const uint64_t s = version_ - u.base_version;
  if (s > cfg_.staleness_threshold) {
    ++stats_.stale_updates;
    return offer_result::stale;
  }
  // s <= threshold, so the base model is among the kept versions.
  const std::vector<float>& ref =
      cfg_.delta == delta_rule::base ? *model_at(u.base_version) : current;
  // Δ = params − ref is folded in the accumulator's pass, not written out first.
  const double n = u.num_samples;
  return fold(u.params, ref.data(), n, s, 1, to_fixed(n * u.loss), u.num_samples);
}

offer_result fedbuff::offer_group(const weighted_accumulator& sums, uint64_t base_version,
                                  uint32_t count) {
  const std::vector<float>& current = model();
  const size_t dim = current.size();
  const double samples = sums.weight();
  const bool valid = sums.dim() == dim && count > 0 && sums.count() == count &&
                     base_version <= version_ && samples > 0;
  if (!valid) {
    stats_.rejected_updates += count;
    return offer_result::rejected;
  }
  const uint64_t s = version_ - base_version;
  if (s > cfg_.staleness_threshold) {
    stats_.stale_updates += count;
    return offer_result::stale;
  }
  // Σ nᵢ·xᵢ / Σ nᵢ: the group's mean delta (rule base) or mean model (rule current).
  sums.mean_into(delta_.data());
  if (cfg_.delta == delta_rule::current) {
    for (size_t i = 0; i < dim; ++i) delta_[i] -= current[i];
  }
  // The accumulator's sums are exact multiples of 2^-32 below 2^53 units, so these read back
  // the fixed-point integers the members' own folds would have added.
  const auto loss_samples = static_cast<uint64_t>(std::llround(samples));
  return fold(delta_.data(), nullptr, samples, s, count, to_fixed(sums.scalar_sum()), loss_samples);
}

offer_result fedbuff::fold(const float* x, const float* base, double samples, uint64_t s,
                           uint32_t count, __int128 loss_fixed, uint64_t loss_samples) {
  const double decay = weight_(s);
  const double w = samples * decay;
  // A weight that underflowed to 0 still counts toward the buffer but moves nothing (its
  // values are still checked: the accumulator, which checks them otherwise, is skipped).
  bool bad_zero_weight = false;
  if (w == 0) {
    const size_t dim = model().size();
    for (size_t i = 0; i < dim && !bad_zero_weight; ++i)
      bad_zero_weight = !std::isfinite(base ? x[i] - base[i] : x[i]);
  }
  // The accumulator folds only when every check before it passed (it leaves no trace when
  // it refuses the values itself).
  if (!(decay >= 0 && decay <= 1) || bad_zero_weight ||
      (w > 0 && !(base ? acc_.add_difference(x, base, w) : acc_.add(x, w)))) {
    stats_.rejected_updates += count;
    return offer_result::rejected;
  }
  histogram_[s] += count;
  decay_sum_ += static_cast<__int128>(count) * to_fixed(decay);
  loss_sum_ += loss_fixed;
  loss_samples_ += loss_samples;
  buffered_ += count;
  stats_.total_updates += count;
  stats_.buffered = buffered_;
  if (buffered_ < cfg_.buffer_size) return offer_result::folded;
  step();
  return offer_result::aggregated;
}

void fedbuff::step() {
  const size_t dim = model().size();
  const size_t keep = static_cast<size_t>(cfg_.staleness_threshold) + 1;
  // Reuse the buffer of the version that falls out of the window, unless it is the current one.
  std::vector<float> next;
  if (history_.size() >= keep && history_.size() > 1) {
    next = std::move(history_.front());
    history_.pop_front();
  }
  next.resize(dim);
  const std::vector<float>& current = history_.back();
  acc_.mean_into(delta_.data());  // zeros when every weight underflowed
  optimizer_->step(current.data(), delta_.data(), next.data(), trainable_);
  // Buffers (running statistics) are not stepped: they become the weighted mean.
  for (size_t i = trainable_; i < dim; ++i)
    next[i] = static_cast<float>(static_cast<double>(current[i]) + static_cast<double>(delta_[i]));
  history_.push_back(std::move(next));
  while (history_.size() > keep) history_.pop_front();
  ++version_;

  aggregation_record r;
  r.version = version_;
  r.updates = buffered_;
  r.stale_discarded = stats_.stale_updates;
  r.staleness_histogram = histogram_;
  r.mean_decay = from_fixed(decay_sum_) / buffered_;
  r.mean_loss = loss_samples_ == 0
                    ? 0.0
                    : static_cast<double>(loss_sum_) / (static_cast<double>(loss_samples_) * scale);
  records_.push_back(std::move(r));

  ++stats_.aggregations;
  stats_.current_version = version_;
  clear_buffer();
}

void fedbuff::clear_buffer() {
  acc_.clear();
  buffered_ = 0;
  std::fill(histogram_.begin(), histogram_.end(), 0);
  decay_sum_ = 0;
  loss_sum_ = 0;
  loss_samples_ = 0;
  stats_.buffered = 0;
}

std::vector<aggregation_record> fedbuff::take_records() {
  return std::exchange(records_, {});
}

void fedbuff::save(byte_writer& out) const {
  out.put_u64(version_);
  out.put_u64(history_.size());
  for (const auto& m : history_) out.put_floats(m);
  out.put_bytes(acc_.serialize());
  out.put_u32(buffered_);
  out.put_u32s(histogram_);
  out.put_i128(decay_sum_);
  out.put_i128(loss_sum_);
  out.put_u64(loss_samples_);
  out.put_u64(stats_.total_updates);
  out.put_u64(stats_.stale_updates);
  out.put_u64(stats_.rejected_updates);
  out.put_u64(stats_.aggregations);
  out.put_bytes(optimizer_->save_state());
}

void fedbuff::load(byte_reader& in) {
  const size_t dim = model().size();
  const size_t keep = static_cast<size_t>(cfg_.staleness_threshold) + 1;
  const uint64_t version = in.get_u64("buffer version");
  const uint64_t kept = in.get_u64("kept versions");
  if (kept == 0 || kept > keep || kept > version + 1)
    in.fail(std::to_string(kept) + " kept model versions at version " + std::to_string(version) +
            " (at most " + std::to_string(keep) + ")");
  std::deque<std::vector<float>> history;
  for (uint64_t i = 0; i < kept; ++i) {
    history.push_back(in.get_floats("kept model"));
    if (history.back().size() != dim)
      in.fail("a kept model of " + std::to_string(history.back().size()) + " values, expected " +
              std::to_string(dim));
  }
  const auto acc_bytes = in.get_bytes("buffer sums");
  auto acc = weighted_accumulator::deserialize(acc_bytes.data(), acc_bytes.size());
  if (!acc || acc->dim() != dim) in.fail("the buffer's sums do not fit the model");
  const uint32_t buffered = in.get_u32("buffered updates");
  auto histogram = in.get_u32s("staleness histogram");
  if (histogram.size() != histogram_.size())
    in.fail("a staleness histogram of " + std::to_string(histogram.size()) + " entries, expected " +
            std::to_string(histogram_.size()));
  const __int128 decay_sum = in.get_i128("decay sum");
  const __int128 loss_sum = in.get_i128("loss sum");
  const uint64_t loss_samples = in.get_u64("loss samples");
  fedbuff_stats stats;
  stats.total_updates = in.get_u64("total updates");
  stats.stale_updates = in.get_u64("stale updates");
  stats.rejected_updates = in.get_u64("rejected updates");
  stats.aggregations = in.get_u64("aggregations");
  stats.current_version = version;
  stats.buffered = buffered;
  const auto opt = in.get_bytes("server optimizer state");
  try {
    optimizer_->load_state(opt.data(), opt.size());
  } catch (const std::invalid_argument& e) {
    in.fail(e.what());
  }
  version_ = version;
  history_ = std::move(history);
  acc_ = std::move(*acc);
  buffered_ = buffered;
  histogram_ = std::move(histogram);
  decay_sum_ = decay_sum;
  loss_sum_ = loss_sum;
  loss_samples_ = loss_samples;
  stats_ = stats;
  records_.clear();
}

}  // namespace fedactor
