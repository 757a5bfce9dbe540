// When a sync round may be aggregated on client hosts.

#include "runtime/protocol/host_aggregation.hpp"

namespace fedactor {

std::optional<std::string> host_aggregation_off(bool enabled, const robust_settings& robust,
                                                double clip, const attack_config& attack) {
  if (!enabled) return std::string{"the edge node runs with --host-aggregation off"};
  if (robust.holds_updates())
    return std::string{"robust.rule "} + to_string(robust.rule) + " needs every update at the edge";
  if (robust.norm_mode != norm_bound_mode::off)
    return std::string{"robust.norm_bound is enforced on each update at the edge"};
  if (clip > 0) return std::string{"DP-FedAvg clips each update at the edge"};
  if (attack.kind != attack_kind::none && attack.kind != attack_kind::label_flip &&
      attack.fraction > 0)
    return std::string{"attack.kind "} + to_string(attack.kind) +
           " alters each client's answer at the edge";
  return std::nullopt;
}

bool host_batches_expected(const scenario& sc) {
  if (sc.protocol.mode != protocol_mode::sync) return false;
  robust_settings robust;
  robust.rule = sc.robust.rule;
  robust.norm_mode = sc.robust.norm_bound.mode;
  // Any positive clip stands for DP-FedAvg's (its value does not matter here).
  const double clip = sc.privacy.mode == privacy_mode::dp_fedavg ? 1.0 : 0.0;
  return !host_aggregation_off(true, robust, clip, sc.attack);
}

}  // namespace fedactor
