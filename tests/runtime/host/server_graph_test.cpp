// server_graph's checkpoint rule: which runs its server checkpoints at the end only. (The
// graph itself runs in every federation, node server and failover test.)

#include "runtime/host/server_graph.hpp"

#include <catch2/catch.hpp>

#include "runtime/checkpoint/loop_state.hpp"

using namespace fedactor;

TEST_CASE("a server checkpoints mid-run unless the client state lives in other processes",
          "[host]") {
  scenario sc;
  CHECK_FALSE(server_checkpoint_limit(sc, false));
  CHECK_FALSE(server_checkpoint_limit(sc, true));
  // SCAFFOLD and FedBN keep state per client: in one process the server snapshots the store
  // with each checkpoint; with client hosts elsewhere it cannot.
  for (int i = 0; i < 3; ++i) {
    scenario s;
    if (i == 0)
      s.strategy.client = client_algorithm::scaffold;
    else if (i == 1)
      s.strategy.normalization = norm_handling::local;
    else
      s.compression.kind = compression_kind::topk;  // its error feedback residuals
    CHECK_FALSE(server_checkpoint_limit(s, true));
    auto why = server_checkpoint_limit(s, false);
    REQUIRE(why);
    CHECK(*why ==
          "runs whose client hosts keep client state (strategy.client scaffold, "
          "compression.kind topk, strategy.normalization local) are checkpointed at the end only "
          "(the state lives "
          "with the hosts)");
  }
  // The protocol's own limits hold wherever the clients are.
  scenario pre;
  pre.protocol.mode = protocol_mode::async;
  pre.async.edge = edge_mode::preaggregate;
  REQUIRE(mid_run_checkpoint_limit(pre));
  CHECK(server_checkpoint_limit(pre, true) == mid_run_checkpoint_limit(pre));
  CHECK(server_checkpoint_limit(pre, false) == mid_run_checkpoint_limit(pre));
}
