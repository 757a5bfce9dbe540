#pragma once

// The order the robust rules sort values in: ascending, NaN above everything (+∞ included),
// NaNs equal to each other. A strict weak order, so std::sort / nth_element are defined on
// inputs with NaN (operator< is not), and a NaN acts as a value larger than any other.

#include <cmath>

namespace fedactor {

inline bool nan_last_less(float a, float b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

}  // namespace fedactor
