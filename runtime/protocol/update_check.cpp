#include "runtime/protocol/update_check.hpp"

#include <cmath>

namespace fedactor {

std::optional<std::string> check_update(const update_claim& got, const update_expectation& want) {
  if (got.round != want.round) return "answer for round " + std::to_string(got.round);
  if (got.client != want.client) return "answer for client " + std::to_string(got.client);
  if (got.values != want.values || (got.values > 0 && got.params == nullptr))
    return "has " + std::to_string(got.values) + " parameters, expected " +
           std::to_string(want.values);
  if (got.samples == 0 || got.samples != want.samples)
    return "claims " + std::to_string(got.samples) + " samples, registry says " +
           std::to_string(want.samples);
  if (!std::isfinite(got.loss)) return "non-finite loss";
  for (size_t i = 0; i < got.values; ++i)
    if (!std::isfinite(got.params[i])) return "non-finite parameter at index " + std::to_string(i);
  return std::nullopt;
}

}  // namespace fedactor
