// Split and merge of flat vectors by ranges (see the header).

#include "runtime/learning/flat_range.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fedactor {

namespace {

std::string show(const flat_range& r) {
  return "[" + std::to_string(r.begin) + ", " + std::to_string(r.end) + ")";
}

}  // namespace

size_t covered(const std::vector<flat_range>& ranges) {
  size_t n = 0;
  for (const auto& r : ranges) n += r.size();
  return n;
}

void check_ranges(const std::vector<flat_range>& ranges, size_t size) {
  size_t previous_end = 0;
  for (const auto& r : ranges) {
    if (r.begin >= r.end) throw std::invalid_argument("flat range " + show(r) + " is empty");
    if (r.begin < previous_end)
      throw std::invalid_argument("flat range " + show(r) +
                                  " overlaps or precedes the range before it");
    if (r.end > size)
      throw std::invalid_argument("flat range " + show(r) + " is outside a vector of " +
                                  std::to_string(size) + " values");
    previous_end = r.end;
  }
}

std::vector<float> extract(const std::vector<flat_range>& ranges, const std::vector<float>& flat) {
  check_ranges(ranges, flat.size());
  std::vector<float> out;
  out.reserve(covered(ranges));
  for (const auto& r : ranges) out.insert(out.end(), flat.begin() + r.begin, flat.begin() + r.end);
  return out;
}

std::vector<float> overlay(const std::vector<flat_range>& ranges, const std::vector<float>& local,
                           const std::vector<float>& flat) {
  check_ranges(ranges, flat.size());
  if (local.size() != covered(ranges))
    throw std::invalid_argument("local values: " + std::to_string(local.size()) +
                                ", the ranges cover " + std::to_string(covered(ranges)));
  std::vector<float> out = flat;
  auto src = local.begin();
  for (const auto& r : ranges) {
    std::copy(src, src + static_cast<std::ptrdiff_t>(r.size()), out.begin() + r.begin);
    src += static_cast<std::ptrdiff_t>(r.size());
  }
  return out;
}

}  // namespace fedactor
