// The cost of the BASP guard (runtime/host/basp_guard.hpp): the same request — a param_blob of
// FLOATS values to an actor in another actor system over loopback, answered with its size — sent
// REPS times straight to CAF's port and REPS times through the guard, alternating, in one run.
// Prints the median round trip and the throughput of each, and their ratio.
//
//   basp_guard [FLOATS] [REPS]      (defaults 1000000 floats = 4 MB, 40 repetitions)

#include <cstdio>
#include <cstdlib>

#include <caf/actor_system.hpp>

#include "bench/round_trips.hpp"
#include "runtime/host/node_net.hpp"

using namespace fedactor;

int main(int argc, char** argv) {
  const size_t floats = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 40;
  node_net_options net;
  system_config scfg;
  configure(scfg, net);
  caf::actor_system server{scfg};
  auto target = server.spawn(bench::sizer);
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
  bench::compare_round_trips("basp_guard", floats, reps, {"direct", &direct_client, *to_direct},
                             {"guarded", &guard_client, *to_guard});
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  return 0;
}
