#include "messages/errors.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace fedactor {

const char* to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::training_failed:
      return "training_failed";
    case errc::invalid_update:
      return "invalid_update";
    case errc::client_timeout:
      return "client_timeout";
    case errc::edge_failed:
      return "edge_failed";
    case errc::no_clients:
      return "no_clients";
    case errc::bad_request:
      return "bad_request";
  }
  return "unknown";
}

caf::error make_error(errc x) {
  return caf::error{static_cast<uint8_t>(x), errc_atom::value};
}

caf::error make_error(errc x, std::string context) {
  return caf::error{static_cast<uint8_t>(x), errc_atom::value,
                    caf::make_message(std::move(context))};
}

std::string describe(const caf::error& err) {
  if (!err) return "no error";
  if (err.category() == errc_atom::value) {
    std::string result = to_string(static_cast<errc>(err.code()));
    const auto& ctx = err.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0) &&
        !ctx.get_as<std::string>(0).empty()) {
      result += ": ";
      result += ctx.get_as<std::string>(0);
    }
    return result;
  }
  if (err.category() == caf::atom("system")) {
    return caf::to_string(static_cast<caf::sec>(err.code()));
  }
  return caf::to_string(err);
}

}  // namespace fedactor
