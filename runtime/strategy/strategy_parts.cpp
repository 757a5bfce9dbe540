#include "runtime/strategy/strategy_parts.hpp"

#include <stdexcept>

namespace fedactor {

std::unique_ptr<server_optimizer> build_optimizer(const strategy_parts& given, const scenario& sc,
                                                  size_t dim) {
  if (given.optimizer) {
    auto opt = given.optimizer(dim);
    if (!opt) throw std::invalid_argument("the server optimizer factory returned nothing");
    if (opt->dim() != dim)
      throw std::invalid_argument("the server optimizer is built for " +
                                  std::to_string(opt->dim()) + " values, the model has " +
                                  std::to_string(dim));
    return opt;
  }
  return make_server_optimizer(effective_optimizer(sc.strategy), dim);
}

std::unique_ptr<sampler> build_sampler(const strategy_parts& given, const scenario& sc,
                                       client_registry& reg) {
  if (given.pick) {
    auto s = given.pick(reg, sc.seed);
    if (!s) throw std::invalid_argument("the sampler factory returned nothing");
    return s;
  }
  return make_sampler(sc.selection.strategy, reg, sc.seed, sc.selection.oort);
}

staleness_weight build_weight(const strategy_parts& given, const scenario& sc) {
  return given.weight ? given.weight : make_staleness_weight(sc.async.decay);
}

}  // namespace fedactor
