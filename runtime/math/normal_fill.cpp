// Fast deterministic standard normals (see normal_fill.hpp).

#include "runtime/math/normal_fill.hpp"

#include <cmath>
#include <cstring>

#include "runtime/math/rng.hpp"

// Vector values never cross a call boundary here (everything is inlined into one path).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace fedactor {

namespace {

constexpr size_t block = 8;  // pairs per block: 16 outputs

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

// Eight 64-bit words -> 16 normals (the stream definition in the header), on vectors of
// eight lanes: elementwise float operations only, so every code path gives the same bits.
// Defined by a macro so that each instruction set gets its own copy compiled for it (a
// helper compiled for the baseline stays split into baseline-width pieces when inlined).
// h = (bits 63..40) + 1 and l = bits 39..16 of the eight words.
#define FEDACTOR_NORMAL_BLOCK(name, vsqrt)                                                    \
  inline __attribute__((always_inline)) void name(const v8i& h, const v8i& l, float* out16) { \
    /* ln u1 = ln m + e ln 2 with m in [sqrt(1/2), sqrt(2)) (Cephes logf). */                 \
    const v8f u1 = __builtin_convertvector(h, v8f) * 0x1.0p-24f;                              \
    v8i bits;                                                                                 \
    std::memcpy(&bits, &u1, sizeof(bits));                                                    \
    v8i e = (bits >> 23) - 126;                                                               \
    bits = (bits & 0x007fffff) | 0x3f000000;                                                  \
    v8f m;                                                                                    \
    std::memcpy(&m, &bits, sizeof(m));                                                        \
    const v8i low = m < 0.70710678118654752f;                                                 \
    e = e + low; /* low is -1 where true */                                                   \
    const v8f x = low ? (m + m) - 1.0f : m - 1.0f;                                            \
    const v8f z = x * x;                                                                      \
    v8f y = x * 7.0376836292e-2f - 1.1514610310e-1f;                                          \
    y = y * x + 1.1676998740e-1f;                                                             \
    y = y * x - 1.2420140846e-1f;                                                             \
    y = y * x + 1.4249322787e-1f;                                                             \
    y = y * x - 1.6668057665e-1f;                                                             \
    y = y * x + 2.0000714765e-1f;                                                             \
    y = y * x - 2.4999993993e-1f;                                                             \
    y = y * x + 3.3333331174e-1f;                                                             \
    y = y * x * z;                                                                            \
    const v8f fe = __builtin_convertvector(e, v8f);                                           \
    y = y + fe * -2.12194440e-4f;                                                             \
    y = y - 0.5f * z;                                                                         \
    const v8f ln = (x + y) + fe * 0.693359375f;                                               \
    v8f r2 = -2.0f * ln;                                                                      \
    r2 = r2 > 0.0f ? r2 : 0.0f;                                                               \
    v8f rv = r2;                                                                              \
    vsqrt(rv);                                                                                \
    /* θ = 2π u2: quadrant q = round(4 u2), t = u2 - q/4 in [-1/8, 1/8] (exact). */         \
    const v8f u2 = __builtin_convertvector(l, v8f) * 0x1.0p-24f;                              \
    const v8f qf = (u2 * 4.0f + 12582912.0f) - 12582912.0f;                                   \
    const v8i q = __builtin_convertvector(qf, v8i) & 3;                                       \
    const v8f r = (u2 - qf * 0.25f) * 6.28318530717958648f;                                   \
    const v8f rr = r * r;                                                                     \
    v8f sn = rr * -1.9515295891e-4f + 8.3321608736e-3f;                                       \
    sn = sn * rr - 1.6666654611e-1f;                                                          \
    sn = sn * rr * r + r;                                                                     \
    v8f cs = rr * 2.443315711809948e-5f - 1.388731625493765e-3f;                              \
    cs = cs * rr + 4.166664568298827e-2f;                                                     \
    cs = (cs * rr * rr - 0.5f * rr) + 1.0f;                                                   \
    const v8i odd = (q & 1) != 0;                                                             \
    const v8f cq = odd ? sn : cs;                                                             \
    const v8f sq = odd ? cs : sn;                                                             \
    const v8f c = ((q == 1) | (q == 2)) ? -cq : cq;                                           \
    const v8f s = ((q == 2) | (q == 3)) ? -sq : sq;                                           \
    const v8f oc = rv * c, os = rv * s;                                                       \
    std::memcpy(out16, &oc, sizeof(oc));                                                      \
    std::memcpy(out16 + block, &os, sizeof(os));                                              \
  }

// Eight words of the stream, split into the fields the block uses (scalar SplitMix64).
inline __attribute__((always_inline)) void next_fields(rng& r, v8i& h, v8i& l) {
  int32_t hi[block], lo[block];
  for (size_t k = 0; k < block; ++k) {
    const uint64_t w = r.next();
    hi[k] = static_cast<int32_t>(w >> 40) + 1;
    lo[k] = static_cast<int32_t>((w >> 16) & 0xffffffu);
  }
  std::memcpy(&h, hi, sizeof(h));
  std::memcpy(&l, lo, sizeof(l));
}

// The fill loop: whole blocks straight into out, a last partial block through a buffer.
// `fields(h, l)` produces the next eight words' fields.
#define FEDACTOR_NORMAL_FILL(name, block_fn, fields_init, fields) \
  void name(uint64_t key, float* out, size_t n) {                 \
    fields_init;                                                  \
    v8i h, l;                                                     \
    size_t i = 0;                                                 \
    for (; i + 2 * block <= n; i += 2 * block) {                  \
      fields;                                                     \
      block_fn(h, l, out + i);                                    \
    }                                                             \
    if (i < n) {                                                  \
      float tail[2 * block];                                      \
      fields;                                                     \
      block_fn(h, l, tail);                                       \
      std::memcpy(out + i, tail, (n - i) * sizeof(float));        \
    }                                                             \
  }

// Square roots are correctly rounded in IEEE arithmetic: the SSE and AVX instructions agree.
typedef float v4f __attribute__((vector_size(16)));
inline __attribute__((always_inline)) void sqrt_sse(v8f& x) {
  v4f a, b;
  std::memcpy(&a, &x, sizeof(a));
  std::memcpy(&b, reinterpret_cast<const char*>(&x) + sizeof(a), sizeof(b));
  a = __builtin_ia32_sqrtps(a);
  b = __builtin_ia32_sqrtps(b);
  std::memcpy(&x, &a, sizeof(a));
  std::memcpy(reinterpret_cast<char*>(&x) + sizeof(a), &b, sizeof(b));
}

FEDACTOR_NORMAL_BLOCK(block_baseline, sqrt_sse)
FEDACTOR_NORMAL_FILL(fill_baseline, block_baseline, rng r{key}, next_fields(r, h, l))

#pragma GCC push_options
#pragma GCC target("avx2")
inline __attribute__((always_inline)) void sqrt_avx(v8f& x) {
  x = __builtin_ia32_sqrtps256(x);
}
FEDACTOR_NORMAL_BLOCK(block_avx2, sqrt_avx)
FEDACTOR_NORMAL_FILL(fill_avx2, block_avx2, rng r{key}, next_fields(r, h, l))
#pragma GCC pop_options

// AVX-512: eight SplitMix64 words at once (64-bit vector multiplies). GCC takes AVX-512 to
// imply FMA: contraction is switched off so that a·b + c stays two roundings, as on the
// other paths.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl")
#pragma GCC optimize("fp-contract=off")
typedef uint64_t u64x8 __attribute__((vector_size(64)));
// Word k of the stream is mix(key + (k + 1)·γ) (rng::next); `state` is key + 8b·γ.
inline __attribute__((always_inline)) void vector_fields(uint64_t& state, v8i& h, v8i& l) {
  constexpr uint64_t g = 0x9e3779b97f4a7c15ULL;
  const u64x8 steps = {g, 2 * g, 3 * g, 4 * g, 5 * g, 6 * g, 7 * g, 8 * g};
  u64x8 z = state + steps;
  state += 8 * g;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z = z ^ (z >> 31);
  h = __builtin_convertvector(z >> 40, v8i) + 1;
  l = __builtin_convertvector((z >> 16) & 0xffffffu, v8i);
}
inline __attribute__((always_inline)) void sqrt_avx512(v8f& x) {
  x = __builtin_ia32_sqrtps256(x);
}
FEDACTOR_NORMAL_BLOCK(block_avx512, sqrt_avx512)
FEDACTOR_NORMAL_FILL(fill_avx512, block_avx512, uint64_t state = key, vector_fields(state, h, l))
#pragma GCC pop_options

#undef FEDACTOR_NORMAL_BLOCK
#undef FEDACTOR_NORMAL_FILL

using path = normal_path;

path best_path() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return path::avx512;
  if (__builtin_cpu_supports("avx2")) return path::avx2;
  return path::baseline;
}

void fill_with(path p, uint64_t key, float* out, size_t n) {
  switch (p) {
    case path::avx512:
      fill_avx512(key, out, n);
      break;
    case path::avx2:
      fill_avx2(key, out, n);
      break;
    default:
      fill_baseline(key, out, n);
      break;
  }
}

}  // namespace

void fill_normal(uint64_t key, float* out, size_t n) {
  static const path p = best_path();
  fill_with(p, key, out, n);
}

bool fill_normal_on(normal_path p, uint64_t key, float* out, size_t n) {
  if (static_cast<int>(p) > static_cast<int>(best_path())) return false;
  fill_with(p, key, out, n);
  return true;
}

void fill_normal_baseline(uint64_t key, float* out, size_t n) {
  fill_baseline(key, out, n);
}

}  // namespace fedactor
