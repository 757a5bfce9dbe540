#include "runtime/population/availability.hpp"

#include <algorithm>

#include "runtime/population/client_set.hpp"

namespace fedactor {

client_availability::client_availability(const client_registry& reg, uint64_t seed,
                                         uint32_t regions)
    : reg_(reg), seed_(seed), region_up_(regions, true), region_present_(regions, 0) {
  for (uint64_t i = 0; i < reg_.size(); ++i) {
    const auto r = reg_.region(static_cast<client_id>(i));
    if (r >= region_present_.size()) {
      region_up_.resize(r + 1, true);
      region_present_.resize(r + 1, 0);
    }
    ++region_present_[r];
  }
  available_ = reg_.size();
}

void client_availability::recount() {
  available_ = 0;
  for (size_t r = 0; r < region_present_.size(); ++r)
    if (region_up_[r]) available_ += region_present_[r];
}

uint64_t client_availability::region_down(uint32_t r) {
  if (r >= region_up_.size() || !region_up_[r]) return 0;
  region_up_[r] = false;
  recount();
  return region_present_[r];
}

uint64_t client_availability::region_up(uint32_t r) {
  if (r >= region_up_.size() || region_up_[r]) return 0;
  region_up_[r] = true;
  recount();
  return region_present_[r];
}

uint64_t client_availability::set_away(const client_selector& sel, bool leave) {
  const uint64_t n = reg_.size();
  if (away_.empty()) {
    if (!leave) return 0;  // nobody has left
    away_.assign((n + 63) / 64, 0);
  }
  uint64_t from = 0, to = n;
  if (sel.fraction <= 0) {
    from = std::min<uint64_t>(sel.from, n);
    to = std::min<uint64_t>(sel.to, n);
  }
  uint64_t changed = 0;
  for (uint64_t i = from; i < to; ++i) {
    const auto id = static_cast<client_id>(i);
    if (sel.fraction > 0 && !selects(sel, seed_, rng_tag::churn, id)) continue;
    const uint64_t bit = uint64_t{1} << (i & 63);
    uint64_t& word = away_[i >> 6];
    if (((word & bit) != 0) == leave) continue;
    word ^= bit;
    auto& present = region_present_[reg_.region(id)];
    if (leave)
      --present;
    else
      ++present;
    ++changed;
  }
  recount();
  return changed;
}

uint64_t client_availability::leave(const client_selector& sel) {
  return set_away(sel, true);
}

uint64_t client_availability::join(const client_selector& sel) {
  return set_away(sel, false);
}

size_t client_availability::bytes() const {
  return away_.capacity() * sizeof(uint64_t) + region_up_.capacity() / 8 +
         region_present_.capacity() * sizeof(uint64_t);
}

}  // namespace fedactor
