// libFuzzer target: fedactor::run_report as read from another node (fuzz/message_target.hpp).

#include "fuzz/message_target.hpp"
#include "messages/run.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fedactor::fuzz::fuzz_message<fedactor::run_report>(data, size);
}
