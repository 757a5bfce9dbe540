#include "messages/registration.hpp"

#include <vector>

#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/errors.hpp"
#include "messages/eval.hpp"
#include "messages/host_batch.hpp"
#include "messages/host_task.hpp"
#include "messages/node.hpp"
#include "messages/param_blob.hpp"
#include "messages/run.hpp"
#include "messages/train.hpp"
#include "messages/tree.hpp"

namespace fedactor {

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<param_blob>("fedactor::param_blob");
  cfg.add_message_type<train_settings>("fedactor::train_settings");
  cfg.add_message_type<train_ins>("fedactor::train_ins");
  cfg.add_message_type<train_res>("fedactor::train_res");
  cfg.add_message_type<edge_ins>("fedactor::edge_ins");
  cfg.add_message_type<edge_res>("fedactor::edge_res");
  cfg.add_message_type<run_report>("fedactor::run_report");
  cfg.add_message_type<eval_ins>("fedactor::eval_ins");
  cfg.add_message_type<eval_res>("fedactor::eval_res");
  cfg.add_message_type<async_ins>("fedactor::async_ins");
  cfg.add_message_type<async_res>("fedactor::async_res");
  cfg.add_message_type<group_close>("fedactor::group_close");
  cfg.add_message_type<node_hello>("fedactor::node_hello");
  cfg.add_message_type<node_welcome>("fedactor::node_welcome");
  cfg.add_message_type<edge_join>("fedactor::edge_join");
  cfg.add_message_type<host_join>("fedactor::host_join");
  cfg.add_message_type<node_ack>("fedactor::node_ack");
  cfg.add_message_type<node_shutdown>("fedactor::node_shutdown");
  cfg.add_message_type<edge_rejoin>("fedactor::edge_rejoin");
  cfg.add_message_type<child_join>("fedactor::child_join");
  cfg.add_message_type<edge_cover>("fedactor::edge_cover");
  cfg.add_message_type<host_task>("fedactor::host_task");
  cfg.add_message_type<host_batch>("fedactor::host_batch");
  cfg.add_message_type<std::vector<uint64_t>>("std::vector<uint64_t>");
  cfg.add_message_type<std::vector<uint32_t>>("std::vector<uint32_t>");
  cfg.add_error_category(errc_atom::value,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           return describe(caf::error{code, errc_atom::value, ctx});
                         });
}

}  // namespace fedactor
