#pragma once

// One checkpoint file, written atomically and read back checked (docs/checkpoints.md):
//
//   offset  size  field
//   0       4     magic "FACK" (fedactor checkpoint)
//   4       4     u32 format version (1)
//   8       8     u64 body length B
//   16      64    SHA-256 of the body, lowercase hex
//   80      B     the body
//
// Writing: the bytes go to PATH.tmp, which is fsync'ed, renamed over PATH, and the directory
// is fsync'ed. rename(2) replaces PATH atomically, so after a crash (kill -9 or power loss)
// PATH is the old file or the new one, never a mix; a torn PATH.tmp is never read.
// Reading: a missing file, another magic or version, a length that does not match the file's
// or a checksum that does not match the body is refused with one line naming the file.

#include <cstddef>
#include <filesystem>
#include <vector>

#include "runtime/checkpoint/byte_codec.hpp"

namespace fedactor {

// Writes `body` to `path` as above, creating the parent directory if missing. Throws
// std::runtime_error naming the path when a step fails (PATH is then unchanged).
void write_checkpoint_file(const std::filesystem::path& path, const std::vector<char>& body);

// The body of the checkpoint file at `path`. Throws checkpoint_error, one line naming the file:
// "no checkpoint" when it is missing, "not a checkpoint" (magic), "unknown format version N",
// "truncated" / "trailing bytes" (length), "damaged (checksum mismatch)".
std::vector<char> read_checkpoint_file(const std::filesystem::path& path);

}  // namespace fedactor
