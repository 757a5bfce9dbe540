#include "runtime/host/peer_address.hpp"

#include <caf/atom.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/host/basp_guard.hpp"

namespace fedactor {

std::string peer_address(caf::actor_system& sys, const caf::node_id& node, bool guarded,
                         std::chrono::milliseconds timeout) {
  if (node == caf::node_id{} || node == sys.node()) return {};
  std::string where;
  auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  if (!basp) return {};
  caf::scoped_actor self{sys};
  self->request(basp, timeout, caf::get_atom::value, node)
      .receive(
          [&](const caf::node_id&, std::string& addr, uint16_t port) {
            if (addr.empty()) return;
            where = addr + ":" + std::to_string(port);
            if (guarded)
              if (auto origin = guarded_peer_origin(port)) where = *origin;
          },
          [&](caf::error&) {});
  return where;
}

}  // namespace fedactor
