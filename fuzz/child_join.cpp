// libFuzzer target: fedactor::child_join as read from another node (fuzz/message_target.hpp).

#include "fuzz/message_target.hpp"
#include "messages/tree.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::child_join>(data, size);
}
