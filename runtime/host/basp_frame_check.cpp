#include "runtime/host/basp_frame_check.hpp"

#include <algorithm>

namespace fedactor {

namespace {

uint64_t big_endian(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

const char* op_name(unsigned op) {
  static const char* const names[] = {"server handshake", "client handshake", "direct message",
                                      "routed message",   "monitor message",  "down message",
                                      "heartbeat"};
  return op < 7 ? names[op] : "?";
}

}  // namespace

basp_frame_check::basp_frame_check(uint64_t max_payload) : max_payload_(max_payload) {}

std::optional<std::string> basp_frame_check::feed(const char* data, size_t n) {
  while (n > 0 && !wrong_) {
    if (payload_left_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(payload_left_, n));
      payload_left_ -= take;
      bytes_by_op_[op_] += take;
      if (op_ == 2 || op_ == 3) count_message_bytes(data, take);
      data += take;
      n -= take;
      continue;
    }
    const size_t take = std::min(header_size - have_, n);
    std::copy(data, data + take, header_.begin() + static_cast<std::ptrdiff_t>(have_));
    have_ += take;
    data += take;
    n -= take;
    if (have_ < header_size) break;
    have_ = 0;
    wrong_ = check_header();
    if (!wrong_) ++frames_;
  }
  return wrong_;
}

std::optional<std::string> basp_frame_check::check_header() {
  const unsigned op = header_[0];
  const uint64_t payload = big_endian(&header_[4], 4);
  const uint64_t op_data = big_endian(&header_[8], 8);
  const uint64_t source = big_endian(&header_[16], 8);
  const uint64_t dest = big_endian(&header_[24], 8);
  const std::string frame = "frame " + std::to_string(frames_ + 1) + ": ";
  if (op > 6) return frame + "unknown BASP frame type " + std::to_string(op);
  const std::string name = op_name(op);
  if (payload > max_payload_)
    return frame + "a " + name + " announcing " + std::to_string(payload) +
           " payload bytes (at most " + std::to_string(max_payload_) + ")";
  const bool handshake = op <= 1;
  if (frames_ == 0 && !handshake) return frame + "a " + name + " before any handshake";
  bool fits = true;
  switch (op) {
    case 0:  // server handshake
      fits = op_data != 0 && payload > 0;
      break;
    case 1:  // client handshake
      fits = source == 0 && dest == 0 && payload > 0;
      break;
    case 2:  // direct message
    case 3:  // routed message
      fits = dest != 0 && payload > 0;
      break;
    case 4:  // monitor message
      fits = payload > 0 && op_data == 0;
      break;
    case 5:  // down message
      fits = source != 0 && dest == 0 && payload > 0 && op_data == 0;
      break;
    default:  // heartbeat
      fits = source == 0 && dest == 0 && payload == 0 && op_data == 0;
  }
  if (!fits) return frame + "a malformed " + name + " header";
  payload_left_ = payload;
  payload_len_ = payload;
  op_ = op;
  bytes_by_op_[op] += header_size;
  if (op == 2 || op == 3) {
    peek_.clear();
    kind_.reset();
    unclassified_ = header_size;
  }
  return std::nullopt;
}

void basp_frame_check::count_message_bytes(const char* data, size_t n) {
  if (kind_) {
    bytes_by_message_[static_cast<size_t>(*kind_)] += n;
    return;
  }
  const size_t room = max_peek_bytes - peek_.size();
  peek_.insert(peek_.end(), data, data + std::min(room, n));
  unclassified_ += n;
  const auto head = read_basp_payload_head(op_, peek_.data(), peek_.size(), payload_left_ == 0);
  if (!head) return;
  kind_ = head->kind;
  if (!registered_as_) registered_as_ = registering_peer(head->first_type);
  bytes_by_message_[static_cast<size_t>(*kind_)] += unclassified_;
  unclassified_ = 0;
}

std::optional<std::string> basp_frame_check::incomplete() const {
  if (wrong_) return std::nullopt;
  if (payload_left_ > 0)
    return "frame " + std::to_string(frames_) + ": a " + op_name(op_) + " cut short after " +
           std::to_string(payload_len_ - payload_left_) + " of " + std::to_string(payload_len_) +
           " payload bytes";
  if (have_ > 0)
    return "frame " + std::to_string(frames_ + 1) + ": a header cut short after " +
           std::to_string(have_) + " of " + std::to_string(header_size) + " bytes";
  return std::nullopt;
}

}  // namespace fedactor
