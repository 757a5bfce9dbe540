#include "runtime/protocol/update_check.hpp"

#include <cmath>
#include <utility>

namespace fedactor {

std::optional<update_refusal> refuse_update(const update_claim& got,
                                            const update_expectation& want) {
  using r = result_refusal;
  if (got.round != want.round)
    return update_refusal{r::wrong_task, "answer for round " + std::to_string(got.round)};
  if (got.client != want.client)
    return update_refusal{r::wrong_client, "answer for client " + std::to_string(got.client)};
  if (got.values != want.values || (got.values > 0 && got.params == nullptr))
    return update_refusal{r::wrong_shape, "has " + std::to_string(got.values) +
                                              " parameters, expected " +
                                              std::to_string(want.values)};
  if (got.samples == 0 || got.samples != want.samples)
    return update_refusal{r::wrong_samples, "claims " + std::to_string(got.samples) +
                                                " samples, registry says " +
                                                std::to_string(want.samples)};
  if (!std::isfinite(got.loss)) return update_refusal{r::non_finite, "non-finite loss"};
  for (size_t i = 0; i < got.values; ++i)
    if (!std::isfinite(got.params[i]))
      return update_refusal{r::non_finite, "non-finite parameter at index " + std::to_string(i)};
  return std::nullopt;
}

std::optional<std::string> check_update(const update_claim& got, const update_expectation& want) {
  auto why = refuse_update(got, want);
  if (!why) return std::nullopt;
  return std::move(why->what);
}

}  // namespace fedactor
