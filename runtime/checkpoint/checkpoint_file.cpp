#include "runtime/checkpoint/checkpoint_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "runtime/math/model_digest.hpp"

namespace fedactor {

namespace {

constexpr char magic[4] = {'F', 'A', 'C', 'K'};
constexpr uint32_t format_version = 1;
constexpr size_t header_size = 4 + 4 + 8 + 64;

[[noreturn]] void io_error(const std::filesystem::path& p, const char* step) {
  throw std::runtime_error("cannot write checkpoint " + p.string() + ": " + step + ": " +
                           std::strerror(errno));
}

void write_all(int fd, const char* data, size_t n, const std::filesystem::path& p) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_error(p, "write");
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

void write_checkpoint_file(const std::filesystem::path& path, const std::vector<char>& body) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path{"."};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot write checkpoint " + path.string() +
                             ": cannot create its directory: " + ec.message());
  byte_writer head;
  for (char c : magic) head.put_u8(static_cast<uint8_t>(c));
  head.put_u32(format_version);
  head.put_u64(body.size());
  const std::string digest = sha256_hex(body.data(), body.size());
  std::vector<char> header = head.take();
  header.insert(header.end(), digest.begin(), digest.end());

  const auto tmp = std::filesystem::path{path.string() + ".tmp"};
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error(tmp, "open");
  try {
    write_all(fd, header.data(), header.size(), tmp);
    write_all(fd, body.data(), body.size(), tmp);
    if (::fsync(fd) != 0) io_error(tmp, "fsync");
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) io_error(tmp, "close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) io_error(path, "rename");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) io_error(dir, "open directory");
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) io_error(dir, "fsync directory");
}

std::vector<char> read_checkpoint_file(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    throw checkpoint_error(where + (exists ? ": cannot read the checkpoint"
                                           : ": no checkpoint (the file does not exist)"));
  }
  std::vector<char> all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.size() < header_size || std::memcmp(all.data(), magic, 4) != 0) {
    if (all.size() >= 4 && std::memcmp(all.data(), magic, 4) == 0)
      throw checkpoint_error(where + ": truncated checkpoint (" + std::to_string(all.size()) +
                             " bytes, less than its header)");
    throw checkpoint_error(where + ": not a fedactor checkpoint");
  }
  byte_reader r(all.data() + 4, header_size - 4 - 64, where);
  const uint32_t version = r.get_u32("format version");
  if (version != format_version)
    throw checkpoint_error(where + ": unknown checkpoint format version " +
                           std::to_string(version));
  const uint64_t length = r.get_u64("body length");
  const uint64_t have = all.size() - header_size;
  if (length > have)
    throw checkpoint_error(where + ": truncated checkpoint (" + std::to_string(have) + " of " +
                           std::to_string(length) + " body bytes)");
  if (length < have)
    throw checkpoint_error(where + ": damaged checkpoint (" + std::to_string(have - length) +
                           " trailing bytes)");
  const std::string stored(all.data() + header_size - 64, 64);
  const std::string actual = sha256_hex(all.data() + header_size, length);
  if (stored != actual) throw checkpoint_error(where + ": damaged checkpoint (checksum mismatch)");
  return std::vector<char>(all.begin() + header_size, all.end());
}

}  // namespace fedactor
