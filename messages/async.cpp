#include "messages/async.hpp"

#include <caf/sec.hpp>

#include "messages/exact_double.hpp"
#include "messages/wire_bounds.hpp"
#include "messages/wire_rejects.hpp"

namespace fedactor {

namespace {

constexpr uint8_t outcome_count = std::variant_size_v<async_outcome>;

}  // namespace

caf::error inspect(caf::serializer& f, async_res& x) {
  auto tag = static_cast<uint8_t>(x.outcome.index());
  if (auto err = f(x.seq, x.client, tag)) return err;
  return std::visit(
      [&f](auto& o) -> caf::error {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, async_update>)
          return f(o.num_samples, exact(o.loss), o.params, bounded(o.update));
        else if constexpr (std::is_same_v<T, async_group>)
          return f(bounded(o.aggregate), o.members, o.update_bytes);
        else if constexpr (std::is_same_v<T, async_refused>)
          return f(o.reason, o.what);
        else
          return caf::none;
      },
      x.outcome);
}

caf::error inspect(caf::deserializer& f, async_res& x) {
  uint8_t tag = 0;
  if (auto err = f(x.seq, x.client, tag)) return err;
  switch (tag) {
    case 0: {
      async_update u;
      if (auto err = f(u.num_samples, exact(u.loss), u.params, bounded(u.update))) return err;
      x.outcome = std::move(u);
      return caf::none;
    }
    case 1:
      x.outcome = async_held{};
      return caf::none;
    case 2: {
      async_group g;
      if (auto err = f(bounded(g.aggregate), g.members, g.update_bytes)) return err;
      x.outcome = std::move(g);
      return caf::none;
    }
    case 3: {
      async_refused r;
      if (auto err = f(r.reason, r.what)) return err;
      x.outcome = std::move(r);
      return caf::none;
    }
    default:
      break;
  }
  static_assert(outcome_count == 4, "a new async outcome needs its wire tag here");
  count_wire_reject(wire_reject::outcome_tag);
  return caf::make_error(caf::sec::invalid_argument,
                         "async_res: unknown outcome tag " + std::to_string(tag));
}

}  // namespace fedactor
