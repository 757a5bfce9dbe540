// The cost of the BASP guard (runtime/host/basp_guard.hpp): the same request — a param_blob of
// FLOATS values to an actor in another actor system over loopback, answered with its size — sent
// REPS times straight to CAF's port and REPS times through the guard, alternating, in one run.
// Prints the median round trip and the throughput of each, and their ratio.
//
//   basp_guard [FLOATS] [REPS]      (defaults 1000000 floats = 4 MB, 40 repetitions)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/param_blob.hpp"
#include "runtime/host/node_net.hpp"

using namespace fedactor;

namespace {

caf::behavior sizer() {
  return {[](const param_blob& p) { return static_cast<uint64_t>(p.size()); }};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t floats = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 40;
  node_net_options net;
  system_config scfg;
  configure(scfg, net);
  caf::actor_system server{scfg};
  auto target = server.spawn(sizer);
  auto direct = publish_on(server, target, host_port{"127.0.0.1", 0}, net);
  auto guarded =
      listen_on(server, target, host_port{"127.0.0.1", 0}, net, max_frame_bytes(floats, 1000), {});
  if (!direct || !guarded) {
    std::fprintf(stderr, "basp_guard: cannot listen\n");
    return 1;
  }
  // Two client systems (two nodes): CAF keeps one connection per pair of nodes, so one client
  // connecting to both ports would send everything over its first connection.
  system_config dcfg, gcfg;
  configure(dcfg, net);
  configure(gcfg, net);
  caf::actor_system direct_client{dcfg}, guard_client{gcfg};
  auto to_direct = connect_to<caf::actor>(direct_client, host_port{"127.0.0.1", *direct}, net);
  auto to_guard = connect_to<caf::actor>(guard_client, host_port{"127.0.0.1", guarded->port}, net);
  if (!to_direct || !to_guard) {
    std::fprintf(stderr, "basp_guard: cannot connect\n");
    return 1;
  }
  const param_blob blob{std::vector<float>(floats, 0.5f)};
  caf::scoped_actor direct_self{direct_client}, guard_self{guard_client};
  auto once = [&](const caf::actor& dest) {
    auto& self = dest == *to_direct ? direct_self : guard_self;
    const auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    self->request(dest, std::chrono::seconds(60), blob)
        .receive([&](uint64_t n) { ok = n == floats; }, [](caf::error&) {});
    if (!ok) {
      std::fprintf(stderr, "basp_guard: a request failed\n");
      std::exit(1);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  once(*to_direct);  // warm-up: connections, first buffers
  once(*to_guard);
  std::vector<double> d, g;
  for (int i = 0; i < reps; ++i) {
    d.push_back(once(*to_direct));
    g.push_back(once(*to_guard));
  }
  const double mb = floats * sizeof(float) / 1e6;
  const double md = median(d), mg = median(g);
  std::printf("payload %.1f MB, %d round trips each (median)\n", mb, reps);
  std::printf("direct  %8.2f ms  %8.1f MB/s\n", md * 1e3, mb / md);
  std::printf("guarded %8.2f ms  %8.1f MB/s\n", mg * 1e3, mb / mg);
  std::printf("guarded / direct: %.2f x the time\n", mg / md);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  return 0;
}
