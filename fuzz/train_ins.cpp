// libFuzzer target: fedactor::train_ins as read from another node (fuzz/message_target.hpp).

#include "fuzz/message_target.hpp"
#include "messages/train.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::train_ins>(data, size);
}
