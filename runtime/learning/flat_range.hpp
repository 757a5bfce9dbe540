#pragma once

// Ranges of a flat model vector and a pure split/merge by ranges: what FedBN needs to keep
// some values (the normalisation layers, model_spec::norm_ranges()) local to each client.
//
// A range is half-open, [begin, end), in values (floats) of the flat vector. A list of ranges
// is valid when every range is non-empty and the ranges are sorted and disjoint (begin of one
// ≥ end of the previous); model_spec gives its ranges in that form, adjacent ones merged.

#include <cstddef>
#include <vector>

namespace fedactor {

struct flat_range {
  size_t begin = 0;
  size_t end = 0;  // one past the last value
  size_t size() const { return end - begin; }
  bool operator==(const flat_range& other) const {
    return begin == other.begin && end == other.end;
  }
  bool operator!=(const flat_range& other) const { return !(*this == other); }
};

// Values the ranges cover (Σ size). No check.
size_t covered(const std::vector<flat_range>& ranges);

// Throws std::invalid_argument (naming the first bad range) unless the ranges are valid and
// end at or before `size`.
void check_ranges(const std::vector<flat_range>& ranges, size_t size);

// The values of `flat` inside the ranges, concatenated in range order (covered(ranges)
// values). Throws as check_ranges(ranges, flat.size()). O(covered).
std::vector<float> extract(const std::vector<flat_range>& ranges, const std::vector<float>& flat);

// `flat` with the values inside the ranges replaced by `local` (extract()'s layout), the rest
// unchanged: overlay(r, extract(r, a), b) takes r from a and everything else from b. Throws as
// check_ranges(ranges, flat.size()), and when local.size() != covered(ranges). O(flat).
std::vector<float> overlay(const std::vector<flat_range>& ranges, const std::vector<float>& local,
                           const std::vector<float>& flat);

}  // namespace fedactor
