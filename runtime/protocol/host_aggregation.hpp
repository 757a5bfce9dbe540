#pragma once

// Whether a sync round's clients on client hosts may be aggregated on their hosts (host
// aggregation, docs/communication.md): each host then trains its clients of the round and
// answers one exact aggregate, instead of one update per client. The fold is the same exact
// fixed-point sum wherever it happens, so the model bytes do not change; what needs each
// client's update at the edge keeps the per-client path (the edge logs why):
//
// - a robust rule other than mean holds the round's updates at the edge (a median of parts is
//   not the median of all), and a norm bound is enforced where the host cannot skip it;
// - DP-FedAvg clips each update at the edge (its guarantee rests on the bound holding there);
// - a simulated attack other than label_flip alters each answer at the edge.
//
// Compression (client-side, error feedback in client state) does not: the host decodes each
// update before its exact fold as the edge would. Actor-free.

#include <optional>
#include <string>

#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/robust_rule.hpp"

namespace fedactor {

// nullopt when a round with these settings may be aggregated on client hosts, else the reason
// it may not (one line). `enabled`: the edge node's --host-aggregation (on by default).
std::optional<std::string> host_aggregation_off(bool enabled, const robust_settings& robust,
                                                double clip, const attack_config& attack);

// Whether the rounds of `sc` will reach client hosts as batches when their edges aggregate on
// hosts (the default): a sync run whose robust, privacy and attack settings allow it. A client
// host then prepares its clients in its batch edge before it joins (runtime/host/node_clients).
bool host_batches_expected(const scenario& sc);

}  // namespace fedactor
