#pragma once

// Fast deterministic standard normal floats for synthetic data: Box-Muller on pairs of
// uniforms from a SplitMix64 stream, both outputs of each pair used, with float polynomial
// logarithm, sine and cosine (about 2 ulp). Only IEEE float arithmetic and no fused
// multiply-add: the same key gives the same bits on every x86-64 code path (baseline, AVX2,
// AVX-512), vectorised, more than ten times faster than rng::normal().
//
// Stream definition: word k = rng{key}.next() for k = 0, 1, ...; u1 = (bits 63..40 + 1)/2^24
// in (0, 1], u2 = (bits 39..16)/2^24 in [0, 1); ρ = sqrt(-2 ln u1), θ = 2π·u2. Outputs come in
// blocks of 16 from words 8b .. 8b+7: out[16b + k] = ρ_k cos θ_k, out[16b + 8 + k] = ρ_k sin θ_k;
// a last partial block is cut short. |value| < 5.77 (ln u1 ≥ -24 ln 2).

#include <cstddef>
#include <cstdint>

namespace fedactor {

// Writes n standard normal values drawn from the stream `key` to out.
void fill_normal(uint64_t key, float* out, size_t n);

// The same, forced onto the baseline x86-64 code path (for tests: the result is identical).
void fill_normal_baseline(uint64_t key, float* out, size_t n);

// The same on a chosen code path (for tests); false, writing nothing, when this CPU lacks it.
enum class normal_path { baseline, avx2, avx512 };
bool fill_normal_on(normal_path path, uint64_t key, float* out, size_t n);

}  // namespace fedactor
