#pragma once

// The body of every message fuzz target: the fuzzer's bytes are read as one message of type
// T with caf::binary_deserializer, as CAF's middleman reads a message from another node. A
// message read whole is written again and read back: that must succeed, and writing it a
// second time must give the same bytes (a value that cannot make the round trip would be
// read differently by its receiver). Anything else the deserializers do wrong (a crash, an
// out-of-bounds read, an allocation bigger than the input allows, undefined behaviour) is
// caught by libFuzzer and the sanitizers.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

namespace fedactor::fuzz {

// One actor system for the whole fuzzing process: the deserializer's context, which reading
// an actor handle needs (node_hello and the others need none, and do not use it). Never
// destroyed: libFuzzer leaves through exit(), and CAF 0.17's actor_system destructor crashes
// when it runs from the exit handlers.
inline caf::actor_system& fuzz_system() {
  static auto* cfg = new caf::actor_system_config;
  static auto* sys = new caf::actor_system{*cfg};
  return *sys;
}

[[noreturn]] inline void fuzz_fail(const char* what) {
  std::fprintf(stderr, "fuzz target: %s\n", what);
  std::abort();
}

template <class T>
std::vector<char> fuzz_save(T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{fuzz_system(), buf};
  if (auto err = sink(x)) fuzz_fail("writing a message that was read failed");
  return buf;
}

template <class T>
int fuzz_message(const uint8_t* data, size_t size) {
  T x;
  caf::binary_deserializer source{fuzz_system(), reinterpret_cast<const char*>(data), size};
  if (source(x)) return 0;  // refused: what a node does with a malformed message
  auto once = fuzz_save(x);
  T y;
  caf::binary_deserializer again{fuzz_system(), once};
  if (again(y)) fuzz_fail("a message written after reading cannot be read back");
  if (again.remaining() != 0) fuzz_fail("reading back left bytes over");
  if (fuzz_save(y) != once) fuzz_fail("writing the message read back gives other bytes");
  return 0;
}

}  // namespace fedactor::fuzz
