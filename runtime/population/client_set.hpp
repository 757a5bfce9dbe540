#pragma once

// The clients a scripted event acts on (runtime/scenario `client_selector`): the ids
// [from, to), or a fraction f of the population chosen from the seed. Each client has one
// draw u(id) in [0, 1) per purpose (churn, bandwidth, compute), a pure function of
// (seed, purpose, id); the fraction f selects the clients with u(id) < f. So the same fraction
// selects the same clients at every event of that purpose, and a smaller fraction selects a
// subset of a larger one: leave 0.3 then join 0.1 brings back a third of those who left.
// Membership is O(1) and needs no memory per client.

#include <cstdint>

#include "runtime/population/client_id.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

namespace rng_tag {
constexpr uint64_t churn = 0x6368726e;      // clients_leave / clients_join fractions ("chrn")
constexpr uint64_t bandwidth = 0x62616e64;  // bandwidth event fractions ("band")
constexpr uint64_t compute = 0x636f6d70;    // compute event fractions ("comp")
}  // namespace rng_tag

// The draw u(id) of `purpose` (an rng_tag above): uniform in [0, 1).
double selection_draw(uint64_t seed, uint64_t purpose, client_id id);

// True if `id` is in the set `sel` selects for `purpose`.
bool selects(const client_selector& sel, uint64_t seed, uint64_t purpose, client_id id);

}  // namespace fedactor
