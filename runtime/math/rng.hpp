#pragma once

// Deterministic, counter-based random numbers. Everything random in a run (client data,
// registry metadata, sampling, shuffles, initial weights) derives from the scenario seed
// and a stream key through these functions, so results do not depend on thread count,
// message order or the standard library's distribution implementations.

#include <cmath>
#include <cstdint>

namespace fedactor {

// SplitMix64 finaliser: a bijective 64-bit mix.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Key for an independent stream: hash of (seed, domain tag, a, b).
constexpr uint64_t stream_key(uint64_t seed, uint64_t tag, uint64_t a = 0, uint64_t b = 0) {
  return mix64(mix64(mix64(mix64(seed) ^ tag) ^ a) ^ b);
}

// Domain tags, so that streams for different purposes never coincide.
namespace rng_tag {
constexpr uint64_t client_size = 0x73697a65;   // per-client dataset size
constexpr uint64_t client_data = 0x64617461;   // per-client features / labels
constexpr uint64_t client_meta = 0x6d657461;   // compute power, region
constexpr uint64_t sampling = 0x73616d70;      // per-round client sampling
constexpr uint64_t shuffle = 0x73687566;       // local-training batch order
constexpr uint64_t model_init = 0x696e6974;    // initial global model
constexpr uint64_t teacher = 0x74656163;       // teacher network of the synthetic task
constexpr uint64_t dp_noise = 0x64706e7a;      // DP-FedAvg: noise on a round's update sum
constexpr uint64_t dp_count = 0x6470636e;      // DP-FedAvg: noise on the unclipped count
constexpr uint64_t compression = 0x636d7072;   // int8 update codec: stochastic rounding
constexpr uint64_t availability = 0x6f6e6c6e;  // diurnal availability: online per time slot
}  // namespace rng_tag

// Small fast generator (SplitMix64 stream) with the distributions the runtime needs.
class rng {
 public:
  explicit constexpr rng(uint64_t key) : state_(key) {}

  constexpr uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, bias < 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Standard normal (Box-Muller; one value per call, deterministic).
  double normal() {
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 0x1.0p-60) u1 = 0x1.0p-60;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace fedactor
