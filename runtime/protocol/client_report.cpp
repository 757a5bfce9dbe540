#include "runtime/protocol/client_report.hpp"

#include "runtime/checkpoint/byte_codec.hpp"

namespace fedactor {

std::vector<char> encode_client_reports(const std::vector<client_report>& reports) {
  byte_writer out;
  out.put_u64(reports.size());
  for (const auto& r : reports) {
    out.put_u32(r.client);
    out.put_u32(r.samples);
    out.put_f64(r.loss);
    out.put_f64(r.sq_norm);
  }
  return out.take();
}

std::optional<std::vector<client_report>> decode_client_reports(const char* data, size_t size) {
  if (size == 0) return std::vector<client_report>{};
  try {
    byte_reader in(data, size, "client reports");
    const uint64_t n = in.get_u64("count");
    if (n > size / 24) return std::nullopt;
    std::vector<client_report> out(n);
    for (auto& r : out) {
      r.client = in.get_u32("client");
      r.samples = in.get_u32("samples");
      r.loss = in.get_f64("loss");
      r.sq_norm = in.get_f64("squared norm");
    }
    in.finish();
    return out;
  } catch (const checkpoint_error&) {
    return std::nullopt;
  }
}

}  // namespace fedactor
