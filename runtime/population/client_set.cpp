#include "runtime/population/client_set.hpp"

#include "runtime/math/rng.hpp"

namespace fedactor {

double selection_draw(uint64_t seed, uint64_t purpose, client_id id) {
  rng r{stream_key(seed, purpose, id)};
  return r.uniform();
}

bool selects(const client_selector& sel, uint64_t seed, uint64_t purpose, client_id id) {
  if (sel.fraction > 0) return selection_draw(seed, purpose, id) < sel.fraction;
  return id >= sel.from && id < sel.to;
}

}  // namespace fedactor
