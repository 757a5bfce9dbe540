// libFuzzer target: fedactor::group_close as read from another node (fuzz/message_target.hpp).

#include "fuzz/message_target.hpp"
#include "messages/async.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::group_close>(data, size);
}
