// libFuzzer target: fedactor::edge_ins as read from another node (fuzz/message_target.hpp).

#include "fuzz/message_target.hpp"
#include "messages/edge.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::edge_ins>(data, size);
}
