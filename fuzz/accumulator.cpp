// libFuzzer target: weighted_accumulator::deserialize, which reads the aggregates of edge_res
// and async_group (bytes from another node), and what the server then does with them: merge
// one into another and take the mean. The input is one accumulator, or two back to back (the
// first as long as its dim field says). An accumulator read must write back to exactly its
// bytes; a merge that is refused must leave the target unchanged.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "runtime/math/accumulator.hpp"

using fedactor::weighted_accumulator;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz target: %s\n", what);
  std::abort();
}

std::optional<weighted_accumulator> read(const char* p, size_t n) {
  auto acc = weighted_accumulator::deserialize(p, n);
  if (!acc) return acc;
  auto back = acc->serialize();
  if (back.size() != n || std::memcmp(back.data(), p, n) != 0)
    fail("an accumulator read does not write back to its bytes");
  (void)acc->mean();
  (void)acc->scalar_mean();
  (void)acc->weight();
  return acc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* p = reinterpret_cast<const char*>(data);
  read(p, size);
  if (size < 48) return 0;
  uint64_t dim = 0;
  std::memcpy(&dim, p, 8);
  if (dim > (size - 48) / 16) return 0;
  const uint64_t first = 48 + dim * 16;
  if (first > size) return 0;
  auto a = read(p, first);
  auto b = read(p + first, size - first);
  if (!a || !b) return 0;
  const auto before = a->serialize();
  if (!a->merge(*b)) {
    if (a->serialize() != before) fail("a refused merge changed the accumulator");
    return 0;
  }
  (void)a->mean();
  (void)a->scalar_mean();
  return 0;
}
