#include "runtime/population/oort_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

[[noreturn]] void throw_too_few(uint32_t k) {
  throw std::invalid_argument("oort sampler: fewer than " + std::to_string(k) +
                              " eligible clients");
}

uint32_t report_round(int32_t round) {
  return static_cast<uint32_t>(std::max(round, 1));
}

// Higher score first, then lower id: a strict total order, so ties never depend on the order
// in which clients reported.
bool better(const std::pair<double, client_id>& a, const std::pair<double, client_id>& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

}  // namespace

oort_sampler::oort_sampler(client_registry& reg, uint64_t seed, const oort_config& cfg)
    : reg_(reg), seed_(seed), cfg_(cfg), stats_(reg.size()) {
  now_.epsilon = cfg_.exploration;
  now_.threshold = cfg_.round_threshold;
}

double oort_sampler::statistical_utility(const client_outcome& o) {
  const double u = static_cast<double>(o.samples) * o.loss;
  return std::isfinite(u) && u > 0 ? u : 0.0;
}

void oort_sampler::observe(client_id id, const client_outcome& outcome) {
  if (id >= stats_.size()) return;
  const double d = std::isfinite(outcome.duration) && outcome.duration > 0 ? outcome.duration : 0;
  stats_.report(id, static_cast<float>(statistical_utility(outcome)), static_cast<float>(d),
                report_round(reg_.last_round(id)));
}

oort_sampler::round_state oort_sampler::next_round(const round_state& cur, int32_t round,
                                                   std::vector<double>& history) const {
  round_state st = cur;
  st.round = round;
  st.ticks = cur.ticks + 1;
  // Pacer: the previous round's exploited clients that reported for it (FedScale's
  // calculateSumUtil: their mean utility, 0 when none did).
  if (cur.ticks > 0) {
    double sum = 0;
    uint64_t n = 0;
    const uint32_t r = report_round(cur.round);
    for (client_id id : exploited_)
      if (stats_.reported(id) && stats_.round(id) == r) {
        sum += stats_.utility(id);
        ++n;
      }
    history.push_back(n > 0 ? sum / static_cast<double>(n) : 0.0);
  } else {
    history.push_back(0.0);
  }
  const uint64_t step = cfg_.pacer_step;
  if (step > 0 && st.ticks >= 2 * step && st.ticks % step == 0 && history.size() >= 2 * step) {
    double last = 0, current = 0;
    const size_t h = history.size();
    for (size_t i = h - 2 * step; i < h - step; ++i) last += history[i];
    for (size_t i = h - step; i < h; ++i) current += history[i];
    if (std::fabs(current - last) <= last * 0.1)
      st.threshold = std::min(100.0, st.threshold + cfg_.pacer_delta);
    else if (std::fabs(current - last) >= last * 5)
      st.threshold = std::max(cfg_.pacer_delta, st.threshold - cfg_.pacer_delta);
  }
  st.epsilon = std::max(cur.epsilon * cfg_.exploration_decay, cfg_.exploration_min);
  // T and the normalisation over the reported clients: O(r).
  const uint64_t r = stats_.reported_count();
  st.prefer = std::numeric_limits<double>::infinity();
  if (st.threshold < 100.0 && r > 0) {
    std::vector<float> d(r);
    for (uint64_t i = 0; i < r; ++i) d[i] = stats_.duration(stats_.reported_at(i));
    const auto at = std::min<uint64_t>(static_cast<uint64_t>(r * st.threshold / 100.0), r - 1);
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(at), d.end());
    st.prefer = d[at];
  }
  std::vector<float> rewards;
  for (uint64_t i = 0; i < r; ++i) {
    const float u = stats_.utility(stats_.reported_at(i));
    if (u > 0) rewards.push_back(u);
  }
  if (rewards.empty()) {
    st.min_reward = 0;
    st.range = 1;
    st.clip = std::numeric_limits<double>::infinity();
  } else {
    std::sort(rewards.begin(), rewards.end());
    const size_t n = rewards.size();
    st.clip = rewards[std::min(static_cast<size_t>(n * cfg_.clip_bound), n - 1)];
    st.min_reward = rewards.front() * 0.999;
    st.range = std::max(static_cast<double>(rewards.back()) - st.min_reward, 1e-4);
  }
  return st;
}

double oort_sampler::score_in(const round_state& st, client_id id) const {
  const double t = report_round(st.round);
  const double u = std::min(static_cast<double>(stats_.utility(id)), st.clip);
  double sc = (u - st.min_reward) / st.range + std::sqrt(0.1 * std::log(t) / stats_.round(id));
  const double d = stats_.duration(id);
  if (d > st.prefer) sc *= std::pow(st.prefer / std::max(1e-4, d), cfg_.penalty);
  return std::fabs(sc);
}

double oort_sampler::score(client_id id) const {
  return stats_.reported(id) ? score_in(now_, id) : 0.0;
}

std::vector<client_id> oort_sampler::sample(uint32_t k, int32_t round, const exclude_fn& excluded) {
  if (k > reg_.size()) throw_too_few(k);
  round_state st = now_;
  std::vector<double> history = history_;
  const bool fresh = round != now_.round;
  if (fresh) st = next_round(now_, round, history);
  rng r{stream_key(seed_, rng_tag::sampling, static_cast<uint32_t>(round), calls_)};

  // Scores of the reported, eligible clients: O(r).
  std::vector<std::pair<double, client_id>> scored;
  const uint64_t reported = stats_.reported_count();
  scored.reserve(reported);
  for (uint64_t i = 0; i < reported; ++i) {
    const client_id id = stats_.reported_at(i);
    if (!(excluded && excluded(id))) scored.emplace_back(score_in(st, id), id);
  }
  std::sort(scored.begin(), scored.end(), better);

  const auto explore_target = static_cast<uint32_t>(k * st.epsilon);
  const size_t exploit_len = std::min<size_t>(k - explore_target, scored.size());
  std::vector<client_id> exploit;
  std::vector<bool> taken(scored.size(), false);
  if (exploit_len > 0) {
    // The pool: scores within (1 - cut_off) of the exploit_len-th; exploit_len of them drawn
    // proportionally to score without replacement (Efraimidis-Spirakis keys ln(u) / s: the
    // same law as successive draws), in the pool's score order.
    const double cut = scored[exploit_len - 1].first * (1.0 - cfg_.cut_off);
    size_t pool = exploit_len;
    while (pool < scored.size() && scored[pool].first >= cut) ++pool;
    std::vector<std::pair<double, size_t>> keys(pool);
    for (size_t i = 0; i < pool; ++i) {
      const double u = r.uniform();
      const double s = scored[i].first;
      keys[i] = {s > 0 ? std::log1p(-u) / s : -std::numeric_limits<double>::infinity(), i};
    }
    std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(exploit_len),
                      keys.end(), [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    for (size_t i = 0; i < exploit_len; ++i) {
      taken[keys[i].second] = true;
      exploit.push_back(scored[keys[i].second].second);
    }
  }

  // Exploration: never-reported eligible clients, uniformly.
  std::vector<client_id> picks = exploit;
  const size_t need = k - exploit_len;
  const uint64_t unseen = stats_.unseen_count();
  std::unordered_set<client_id> chosen;
  size_t explored = 0;
  if (need > 0 && unseen > 0) {
    chosen.reserve(2 * need);
    const uint64_t max_draws = 4 * static_cast<uint64_t>(need) + 64;
    for (uint64_t draw = 0; explored < need && draw < max_draws; ++draw) {
      const client_id id = stats_.unseen_at(r.below(unseen));
      if (chosen.count(id) != 0 || (excluded && excluded(id))) continue;
      chosen.insert(id);
      picks.push_back(id);
      ++explored;
    }
    if (explored < need) {  // rejections piled up: one pass over the unseen clients
      std::vector<client_id> rest;
      for (uint64_t i = 0; i < unseen; ++i) {
        const client_id id = stats_.unseen_at(i);
        if (chosen.count(id) == 0 && !(excluded && excluded(id))) rest.push_back(id);
      }
      for (size_t i = 0; i < rest.size() && explored < need; ++i, ++explored) {
        std::swap(rest[i], rest[i + r.below(rest.size() - i)]);
        picks.push_back(rest[i]);
      }
    }
  }
  // Unseen clients ran out: the best remaining reported clients.
  for (size_t i = 0; i < scored.size() && picks.size() < k; ++i)
    if (!taken[i]) picks.push_back(scored[i].second);
  if (picks.size() < k) throw_too_few(k);

  // Commit.
  if (fresh) {
    exploited_.clear();
    history_ = std::move(history);
  }
  now_ = st;
  ++calls_;
  std::sort(exploit.begin(), exploit.end());
  exploited_.insert(exploited_.end(), exploit.begin(), exploit.end());
  last_exploited_ = std::move(exploit);
  std::sort(picks.begin(), picks.end());
  for (client_id id : picks) reg_.mark_picked(id, round);
  return picks;
}

size_t oort_sampler::bytes() const {
  return stats_.bytes() + history_.capacity() * sizeof(double) +
         exploited_.capacity() * sizeof(client_id);
}

std::vector<char> oort_sampler::save_state() const {
  byte_writer out;
  out.put_string("oort");
  out.put_u64(calls_);
  out.put_i32(now_.round);
  out.put_u64(now_.ticks);
  for (double v :
       {now_.epsilon, now_.threshold, now_.prefer, now_.min_reward, now_.range, now_.clip})
    out.put_f64(v);
  out.put_u64(history_.size());
  for (double h : history_) out.put_f64(h);
  out.put_u32s(exploited_);
  out.put_u32s(last_exploited_);
  stats_.save(out);
  return out.take();
}

void oort_sampler::load_state(const char* data, size_t size) {
  byte_reader in(data, size, "sampler state");
  const auto name = in.get_string("sampler kind");
  if (name != "oort") in.fail("saved by a " + name + " sampler, this one is oort");
  const uint64_t calls = in.get_u64("calls");
  round_state st;
  st.round = in.get_i32("round");
  st.ticks = in.get_u64("rounds started");
  st.epsilon = in.get_f64("exploration");
  st.threshold = in.get_f64("round threshold");
  st.prefer = in.get_f64("preferred duration");
  st.min_reward = in.get_f64("minimum utility");
  st.range = in.get_f64("utility range");
  st.clip = in.get_f64("utility clip");
  const uint64_t h = in.get_u64("history length");
  if (h != st.ticks)
    in.fail("a history of " + std::to_string(h) + " rounds, " + std::to_string(st.ticks) +
            " started");
  std::vector<double> history;
  for (uint64_t i = 0; i < h; ++i) history.push_back(in.get_f64("history"));
  auto exploited = in.get_u32s("exploited clients");
  auto last = in.get_u32s("last exploited clients");
  client_stats stats(stats_.size());
  stats.load(in);
  in.finish();
  for (auto id : exploited)
    if (id >= stats_.size()) in.fail("exploited client " + std::to_string(id) + " out of range");
  for (auto id : last)
    if (id >= stats_.size()) in.fail("exploited client " + std::to_string(id) + " out of range");
  calls_ = calls;
  now_ = st;
  history_ = std::move(history);
  exploited_ = std::move(exploited);
  last_exploited_ = std::move(last);
  stats_ = std::move(stats);
}

}  // namespace fedactor
