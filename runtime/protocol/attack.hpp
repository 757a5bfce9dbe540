#pragma once

// Simulated attackers (scenario section `attack`, docs/robustness.md): which clients are
// malicious, and what a malicious client does to the result it sends. The set is fixed for a
// run: client c is malicious when a hash of (attack.seed, c), as a uniform number in [0, 1), is
// below attack.fraction — the same clients every round, on every edge and node, and a larger
// fraction only adds clients. The edge applies the attack to the client's answer before it is
// checked (as if the client had sent it); label_flip acts on the client's training data instead
// (runtime/learning/label_flip_source.hpp). Actor-free.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// Client `client` is one of the run's attackers (always false for kind none or fraction 0).
bool is_malicious(const attack_config& a, uint64_t client);

// The fixed unit direction of the backdoor attack for a model of n values: ±1/√n per value,
// signs drawn from attack.seed (the same for every attacker and round).
std::vector<float> backdoor_direction(const attack_config& a, size_t n);

// What a malicious client sends instead of `params` (n values) trained from `model`, with
// Δ = params − model (in float): scale: model + scale·Δ; sign_flip: model − scale·Δ; nan: every
// value NaN; backdoor: model + Δ + scale·d (d = backdoor_direction); label_flip and none:
// params unchanged (products in double, rounded to float).
std::vector<float> attacked_params(const attack_config& a, const float* params, const float* model,
                                   size_t n);

}  // namespace fedactor
