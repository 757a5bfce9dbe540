// libFuzzer target: fedactor::param_blob as read from another node (fuzz/message_target.hpp).

#include "messages/param_blob.hpp"
#include "fuzz/message_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::param_blob>(data, size);
}
