// Tests of messages/errors.*: fedactor's error codes, make_error and describe().

#include "messages/errors.hpp"

#include <string>

#include <caf/exit_reason.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/pec.hpp>
#include <caf/sec.hpp>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("fedactor errors render with their name and context", "[messages]") {
  auto err = make_error(errc::invalid_update, "client 4: 3 parameters, expected 2762");
  CHECK(describe(err) == "invalid_update: client 4: 3 parameters, expected 2762");
  CHECK(describe(make_error(errc::client_timeout)) == "client_timeout");
  CHECK(describe(caf::make_error(caf::sec::request_timeout)) == "request_timeout");
}

TEST_CASE("every fedactor error code has its name", "[messages]") {
  CHECK(std::string(to_string(errc::none)) == "none");
  CHECK(std::string(to_string(errc::training_failed)) == "training_failed");
  CHECK(std::string(to_string(errc::invalid_update)) == "invalid_update");
  CHECK(std::string(to_string(errc::bad_request)) == "bad_request");
  CHECK(std::string(to_string(errc::host_lost)) == "host_lost");
  CHECK(std::string(to_string(errc::client_timeout)) == "client_timeout");
  CHECK(std::string(to_string(errc::model_missing)) == "model_missing");
  CHECK(std::string(to_string(static_cast<errc>(7))) == "unknown");
  CHECK(std::string(to_string(static_cast<errc>(255))) == "unknown");
}

TEST_CASE("make_error gives the code in the fedactor category, with the context if any",
          "[messages]") {
  const auto plain = make_error(errc::host_lost);
  CHECK(static_cast<bool>(plain));
  CHECK(plain.code() == 4);
  CHECK(plain.category() == errc_atom::value);
  CHECK(plain.category() == caf::atom("fedactor"));
  CHECK(plain.context().empty());

  const auto with_context = make_error(errc::bad_request, "round 3 is over");
  CHECK(with_context.code() == 3);
  CHECK(with_context.category() == errc_atom::value);
  REQUIRE(with_context.context().size() == 1);
  REQUIRE(with_context.context().match_element<std::string>(0));
  CHECK(with_context.context().get_as<std::string>(0) == "round 3 is over");

  // Same code and category compare equal; another code does not.
  CHECK(make_error(errc::host_lost) == plain);
  CHECK(make_error(errc::client_timeout) != plain);
}

TEST_CASE("describe names every fedactor error, with a string context after a colon",
          "[messages]") {
  for (auto x : {errc::training_failed, errc::invalid_update, errc::bad_request, errc::host_lost,
                 errc::client_timeout, errc::model_missing}) {
    INFO(to_string(x));
    CHECK(describe(make_error(x)) == to_string(x));
    CHECK(describe(make_error(x, "edge 2")) == std::string(to_string(x)) + ": edge 2");
  }
  // A code outside the enum, and a context that is not one string: the name alone.
  CHECK(describe(caf::error{42, errc_atom::value}) == "unknown");
  CHECK(describe(caf::error{1, errc_atom::value, caf::make_message(3, 4)}) == "training_failed");
  CHECK(describe(caf::error{1, errc_atom::value, caf::make_message(std::string("a"), 4)}) ==
        "training_failed");
}

TEST_CASE("code 0 is no error: errc none and a default error describe as no error", "[messages]") {
  CHECK(describe(caf::error{}) == "no error");
  // CAF treats code 0 as "no error" whatever the category, so errc::none is not an error.
  const auto none = make_error(errc::none);
  CHECK_FALSE(static_cast<bool>(none));
  CHECK(describe(none) == "no error");
  CHECK(describe(make_error(errc::none, "ignored")) == "no error");
  CHECK(describe(make_error(errc::bad_request, "")) == "bad_request");  // no dangling colon
}

TEST_CASE("describe renders CAF system errors by their sec name", "[messages]") {
  CHECK(describe(caf::make_error(caf::sec::unexpected_message)) == "unexpected_message");
  CHECK(describe(caf::make_error(caf::sec::request_receiver_down)) == "request_receiver_down");
  CHECK(describe(caf::make_error(caf::sec::cannot_connect_to_node)) == "cannot_connect_to_node");
  // The context of a system error is not shown.
  CHECK(describe(caf::make_error(caf::sec::request_timeout, "after 5s")) == "request_timeout");
}

TEST_CASE("describe renders errors of other categories through CAF", "[messages]") {
  CHECK(describe(caf::make_error(caf::exit_reason::user_shutdown)) == "exit_reason(user_shutdown)");
  CHECK(describe(caf::make_error(caf::pec::unexpected_eof)) == "parser_error(unexpected_eof)");
  CHECK(describe(caf::error{3, caf::atom("foo")}) == "error(3, 'foo')");
  CHECK(describe(caf::error{3, caf::atom("foo"), caf::make_message(std::string("ctx"), 4)}) ==
        "error(3, 'foo', (\"ctx\", 4))");
}

TEST_CASE("a failed task's error maps to its failure code and back", "[messages]") {
  CHECK(failure_code_of(caf::make_error(caf::sec::request_timeout)) == failure_code::timeout);
  CHECK(failure_code_of(make_error(errc::client_timeout, "x")) == failure_code::timeout);
  CHECK(failure_code_of(make_error(errc::host_lost, "x")) == failure_code::edge_lost);
  CHECK(failure_code_of(make_error(errc::invalid_update, "x")) == failure_code::invalid_update);
  CHECK(failure_code_of(make_error(errc::training_failed, "x")) == failure_code::client_error);
  CHECK(failure_code_of(make_error(errc::bad_request, "x")) == failure_code::client_error);
  // A client actor that died under the edge: the client's failure.
  CHECK(failure_code_of(caf::make_error(caf::sec::request_receiver_down)) ==
        failure_code::client_error);
  for (auto code : {failure_code::timeout, failure_code::edge_lost, failure_code::invalid_update,
                    failure_code::client_error}) {
    INFO(to_string(code));
    const auto err = make_failure(code, "client 3: why");
    CHECK(failure_code_of(err) == code);
    CHECK(describe(err).find(": client 3: why") != std::string::npos);
  }
  CHECK(describe(make_failure(failure_code::timeout, "client 3: late")) ==
        "client_timeout: client 3: late");
}
