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
    case errc::bad_request:
      return "bad_request";
    case errc::host_lost:
      return "host_lost";
    case errc::client_timeout:
      return "client_timeout";
    case errc::model_missing:
      return "model_missing";
  }
  return "unknown";
}

failure_code failure_code_of(const caf::error& err) {
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return failure_code::timeout;
      default:
        return failure_code::client_error;
    }
  }
  if (err.category() == errc_atom::value) {
    switch (static_cast<errc>(err.code())) {
      case errc::invalid_update:
        return failure_code::invalid_update;
      case errc::host_lost:
        return failure_code::edge_lost;
      case errc::client_timeout:
        return failure_code::timeout;
      default:
        return failure_code::client_error;
    }
  }
  return failure_code::client_error;
}

caf::error make_failure(failure_code code, std::string detail) {
  switch (code) {
    case failure_code::timeout:
      return make_error(errc::client_timeout, std::move(detail));
    case failure_code::edge_lost:
      return make_error(errc::host_lost, std::move(detail));
    case failure_code::invalid_update:
      return make_error(errc::invalid_update, std::move(detail));
    default:
      return make_error(errc::training_failed, std::move(detail));
  }
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
