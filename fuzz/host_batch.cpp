// libFuzzer target: fedactor::host_batch as read from another node (fuzz/message_target.hpp).

#include "messages/host_batch.hpp"
#include "fuzz/message_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::host_batch>(data, size);
}
