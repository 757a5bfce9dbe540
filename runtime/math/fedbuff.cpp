#include "runtime/math/fedbuff.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/staleness.hpp"
#include "runtime/math/update_norm.hpp"

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
    case offer_result::out_of_bound:
      return "out_of_bound";
  }
  return "?";
}

fedbuff::fedbuff(std::vector<float> initial_model, const async_config& cfg,
                 std::unique_ptr<server_optimizer> optimizer, staleness_weight weight,
                 size_t trainable, const robust_config& robust)
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
  robust_.norm_mode = robust.norm_bound.mode;
  robust_.norm_bound =
      robust.norm_bound.mode == norm_bound_mode::off ? 0.0 : robust.norm_bound.bound;
  robust_.rule = robust.rule;
  robust_.trim = robust.trim;
  robust_.krum_f = robust.krum_f;
  robust_.krum_m = robust.krum_m;
  if (const char* problem = robust_settings_problem(robust_); problem[0] != '\0')
    throw std::invalid_argument(std::string("fedbuff robust settings: ") + problem);
  if (robust_.norm_mode != norm_bound_mode::off && robust.norm_bound.target_quantile > 0) {
    if (!(robust.norm_bound.target_quantile < 1) || !(robust.norm_bound.lr > 0) ||
        !std::isfinite(robust.norm_bound.lr))
      throw std::invalid_argument(
          "fedbuff robust settings: adaptive bound needs a quantile in (0, 1) and lr > 0");
    adaptive_.emplace(robust.norm_bound.bound, robust.norm_bound.target_quantile,
                      robust.norm_bound.lr);
  }
  const size_t dim = initial_model.size();
  history_.push_back(std::move(initial_model));
  acc_ = weighted_accumulator(dim);
  histogram_.assign(cfg.staleness_threshold + 1, 0);
  delta_.resize(dim);
}

double fedbuff::norm_bound() const {
  if (robust_.norm_mode == norm_bound_mode::off) return 0.0;
  return adaptive_ ? adaptive_->bound() : robust_.norm_bound;
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
  if (robust_.active()) return offer_robust(u, ref.data(), s);
  // Δ = params − ref is folded in the accumulator's pass, not written out first.
  const double n = u.num_samples;
  return fold(u.params, ref.data(), n, s, 1, to_fixed(n * u.loss), u.num_samples);
}

offer_result fedbuff::offer_group(const weighted_accumulator& sums, uint64_t base_version,
                                  uint32_t count) {
  const std::vector<float>& current = model();
  const size_t dim = current.size();
  const double samples = sums.weight();
  // With robust settings on, a group's aggregate hides the updates the bound and the rule
  // must see: refused (validation keeps such scenarios from running).
  const bool valid = sums.dim() == dim && count > 0 && sums.count() == count &&
                     base_version <= version_ && samples > 0 && !robust_.active();
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
  if (measure_spread_ && count == 1) {
    // ‖Δ‖² with Δ in float, as folded (finite: the accumulator took it, or w is 0).
    const size_t dim = model().size();
    double sq = 0;
    for (size_t i = 0; i < dim; ++i) {
      const double d = base ? static_cast<double>(x[i] - base[i]) : static_cast<double>(x[i]);
      sq += d * d;
    }
    spread_.add(w, sq);
  }
  return note_buffered(s, count, decay, loss_fixed, loss_samples);
}

offer_result fedbuff::offer_robust(const fedbuff_update& u, const float* ref, uint64_t s) {
  const size_t dim = model().size();
  std::vector<float> delta(dim);
  for (size_t i = 0; i < dim; ++i) delta[i] = u.params[i] - ref[i];  // in float, as the fold
  bool clipped = false;
  if (robust_.norm_mode != norm_bound_mode::off) {
    const double bound = norm_bound();
    const double norm = l2_norm(delta.data(), dim);
    if (!std::isfinite(norm)) {
      ++stats_.rejected_updates;
      return offer_result::rejected;
    }
    if (norm > bound) {
      if (robust_.norm_mode == norm_bound_mode::reject) {
        ++norm_.rejected;
        ++stats_.norm_rejected;
        ++stats_.rejected_updates;
        return offer_result::out_of_bound;
      }
      clip_to_norm(delta.data(), dim, bound);
      clipped = true;
    }
  }
  const double n = u.num_samples;
  const __int128 loss_fixed = to_fixed(n * u.loss);
  const double decay = weight_(s);
  if (robust_.holds_updates()) {
    // Held for the step's rule, which needs finite values (the rule's result goes to the
    // server optimizer, not through the accumulator).
    bool finite = decay >= 0 && decay <= 1;
    for (size_t i = 0; i < dim && finite; ++i) finite = std::isfinite(delta[i]);
    if (!finite) {
      ++stats_.rejected_updates;
      return offer_result::rejected;
    }
  }
  // The bound's verdict is counted before the update enters the buffer (a step may follow at
  // once, and its record and the adaptive bound include it); taken back if the fold refuses.
  const bool bounded = robust_.norm_mode != norm_bound_mode::off;
  if (bounded) {
    if (clipped) {
      ++norm_.clipped;
      ++stats_.norm_clipped;
    } else {
      ++norm_.within;
    }
  }
  if (robust_.holds_updates()) {
    held_.push_back(held_update{u.client, std::move(delta)});
    return note_buffered(s, 1, decay, loss_fixed, u.num_samples);
  }
  const offer_result r = fold(delta.data(), nullptr, n, s, 1, loss_fixed, u.num_samples);
  if (r == offer_result::rejected && bounded) {
    if (clipped) {
      --norm_.clipped;
      --stats_.norm_clipped;
    } else {
      --norm_.within;
    }
  }
  return r;
}

offer_result fedbuff::note_buffered(uint64_t s, uint32_t count, double decay, __int128 loss_fixed,
                                    uint64_t loss_samples) {
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
  if (robust_.holds_updates()) {
    // The rule over the held Δs in (client id, arrival) order: its result, and Krum's ties,
    // do not depend on which of two clients answered first.
    std::vector<const held_update*> order;
    for (const auto& h : held_) order.push_back(&h);
    std::stable_sort(order.begin(), order.end(), [](const held_update* a, const held_update* b) {
      return a->client < b->client;
    });
    std::vector<const float*> xs;
    for (const auto* h : order) xs.push_back(h->delta.data());
    if (xs.empty())
      std::fill(delta_.begin(), delta_.end(), 0.0f);
    else
      apply_robust_rule(robust_, xs, dim, delta_.data());
  } else {
    acc_.mean_into(delta_.data());  // zeros when every weight underflowed
  }
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
  if (measure_spread_) {
    double mean_sq = 0;
    for (float v : delta_) mean_sq += static_cast<double>(v) * static_cast<double>(v);
    r.rel_var = spread_.relative_variance(mean_sq);
    r.spread_updates = static_cast<uint32_t>(spread_.count());
  }
  if (robust_.norm_mode != norm_bound_mode::off) {
    r.norm_bound = norm_bound();
    r.norm_clipped = norm_.clipped;
    r.norm_rejected = norm_.rejected;
    // The next buffer's bound, from this one's fraction within it (rejected ones included).
    if (adaptive_)
      adaptive_->update(norm_.within,
                        static_cast<uint64_t>(norm_.within) + norm_.clipped + norm_.rejected);
  }
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
  norm_ = norm_bound_counts{};
  held_.clear();
  spread_ = update_spread{};
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
  if (robust_.active()) save_robust(out);
  if (measure_spread_) {
    out.put_f64(spread_.weight());
    out.put_f64(spread_.weighted_sq());
    out.put_u64(spread_.count());
  }
}

void fedbuff::save_robust(byte_writer& out) const {
  out.put_f64(norm_bound());
  out.put_u32(norm_.within);
  out.put_u32(norm_.clipped);
  out.put_u32(norm_.rejected);
  out.put_u64(stats_.norm_clipped);
  out.put_u64(stats_.norm_rejected);
  out.put_u64(held_.size());
  for (const auto& h : held_) {
    out.put_u32(h.client);
    out.put_floats(h.delta);
  }
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
  double bound = 0;
  norm_bound_counts norm;
  std::vector<held_update> held;
  if (robust_.active()) {
    bound = in.get_f64("norm bound");
    if (robust_.norm_mode == norm_bound_mode::off ? bound != 0
                                                  : !(bound > 0 && std::isfinite(bound)))
      in.fail("a norm bound of " + std::to_string(bound) + " for norm bound mode " +
              to_string(robust_.norm_mode));
    if (!adaptive_ && bound != robust_.norm_bound)
      in.fail("a norm bound of " + std::to_string(bound) + ", the fixed bound is " +
              std::to_string(robust_.norm_bound));
    norm.within = in.get_u32("updates within the norm bound");
    norm.clipped = in.get_u32("updates clipped");
    norm.rejected = in.get_u32("updates rejected by the norm bound");
    if (static_cast<uint64_t>(norm.within) + norm.clipped !=
        (robust_.norm_mode == norm_bound_mode::off ? 0 : buffered))
      in.fail("norm counts that do not match the " + std::to_string(buffered) +
              " buffered updates");
    stats.norm_clipped = in.get_u64("updates clipped in the run");
    stats.norm_rejected = in.get_u64("updates rejected by the norm bound in the run");
    const uint64_t count = in.get_u64("held updates");
    if (count != (robust_.holds_updates() ? buffered : 0))
      in.fail(std::to_string(count) + " held updates for " + std::to_string(buffered) +
              " buffered ones with rule " + to_string(robust_.rule));
    for (uint64_t i = 0; i < count; ++i) {
      held_update h;
      h.client = in.get_u32("held update client");
      h.delta = in.get_floats("held update");
      if (h.delta.size() != dim)
        in.fail("a held update of " + std::to_string(h.delta.size()) + " values, expected " +
                std::to_string(dim));
      held.push_back(std::move(h));
    }
  }
  update_spread spread;
  if (measure_spread_) {
    const double weight = in.get_f64("spread weight");
    const double weighted_sq = in.get_f64("spread sum of squares");
    const uint64_t count = in.get_u64("spread updates");
    if (!(weight >= 0 && std::isfinite(weight)) ||
        !(weighted_sq >= 0 && std::isfinite(weighted_sq)) || count > buffered)
      in.fail("spread sums that do not fit the " + std::to_string(buffered) + " buffered updates");
    spread = update_spread::from_sums(weight, weighted_sq, count);
  }
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
  if (adaptive_) adaptive_->set_bound(bound);
  norm_ = norm;
  held_ = std::move(held);
  spread_ = spread;
}

}  // namespace fedactor
