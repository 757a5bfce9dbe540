// libFuzzer target: fedactor::node_welcome as read from another node (fuzz/message_target.hpp).

#include "fuzz/message_target.hpp"
#include "messages/node.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::node_welcome>(data, size);
}
