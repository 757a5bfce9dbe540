// Tests of runtime/host/basp_message_kind.*: the kind of a BASP actor message read from the
// head of its payload, on hand-built payloads and on payloads CAF's own serializer writes the
// way caf::io::basp::instance::dispatch does (forwarding stack, then the message).

#include "runtime/host/basp_message_kind.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <catch2/catch.hpp>

#include "messages/edge.hpp"
#include "messages/node.hpp"
#include "messages/train.hpp"
#include "runtime/host/system_config.hpp"

using namespace fedactor;

namespace {

using bytes = std::vector<unsigned char>;

void put_u64(bytes& b, uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// uint16 0, the name's varbyte length (short names: one byte), the name.
void put_message_head(bytes& b, const std::string& name) {
  b.push_back(0);
  b.push_back(0);
  b.push_back(static_cast<unsigned char>(name.size()));
  b.insert(b.end(), name.begin(), name.end());
}

void put_default_node(bytes& b) {
  put_u64(b, static_cast<uint64_t>(caf::atom("default")));
  b.insert(b.end(), 4 + 20, 0x5a);  // process id, host id
}

std::optional<message_kind> classify(unsigned op, const bytes& b, bool complete = true) {
  return classify_basp_payload(op, b.data(), b.size(), complete);
}

// The payload of a direct message as CAF 0.17.6 writes it: sink(forwarding_stack, msg).
bytes caf_payload(caf::actor_system& sys, const caf::message& msg) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  std::vector<caf::strong_actor_ptr> stages;
  REQUIRE_FALSE(sink(stages, const_cast<caf::message&>(msg)));
  return bytes(buf.begin(), buf.end());
}

}  // namespace

TEST_CASE("fedactor's message types map to their kinds", "[host][bytes]") {
  CHECK(kind_of_type_name("fedactor::train_ins") == message_kind::task);
  CHECK(kind_of_type_name("fedactor::host_task") == message_kind::task);
  CHECK(kind_of_type_name("fedactor::host_batch") == message_kind::task);
  CHECK(kind_of_type_name("fedactor::async_ins") == message_kind::task);
  CHECK(kind_of_type_name("fedactor::edge_ins") == message_kind::model);
  CHECK(kind_of_type_name("fedactor::eval_ins") == message_kind::model);
  CHECK(kind_of_type_name("fedactor::train_res") == message_kind::result);
  CHECK(kind_of_type_name("fedactor::async_res") == message_kind::result);
  CHECK(kind_of_type_name("fedactor::eval_res") == message_kind::result);
  CHECK(kind_of_type_name("fedactor::edge_res") == message_kind::aggregate);
  CHECK(kind_of_type_name("fedactor::node_hello") == message_kind::control);
  CHECK(kind_of_type_name("@atom") == message_kind::control);
  CHECK(kind_of_type_name("") == message_kind::control);
  CHECK(std::string{name_of(message_kind::aggregate)} == "aggregate");
  CHECK(std::string{name_of(message_kind::other)} == "other");
}

TEST_CASE("a direct message's kind is its first element's type name", "[host][bytes]") {
  bytes b{0};  // empty forwarding stack
  put_message_head(b, "@<>+fedactor::edge_res");
  b.insert(b.end(), 100, 1);  // the content, not read
  CHECK(classify(2, b) == message_kind::aggregate);
  bytes atoms{0};
  put_message_head(atoms, "@<>+@atom+fedactor::edge_ins");
  CHECK(classify(2, atoms) == message_kind::control);
  bytes empty{0};
  put_message_head(empty, "@<>");
  CHECK(classify(2, empty) == message_kind::control);
  // A forwarding stack of one actor on a default node id is skipped.
  bytes staged{1};
  put_u64(staged, 42);
  put_default_node(staged);
  put_message_head(staged, "@<>+fedactor::train_res");
  CHECK(classify(2, staged) == message_kind::result);
}

TEST_CASE("a routed message's kind is read after its source and destination nodes",
          "[host][bytes]") {
  bytes b;
  put_default_node(b);
  put_u64(b, static_cast<uint64_t>(caf::atom("")));  // no destination node id
  b.push_back(0);
  put_message_head(b, "@<>+fedactor::host_task");
  CHECK(classify(3, b) == message_kind::task);
}

TEST_CASE("a payload cut short waits for more bytes, then counts as other", "[host][bytes]") {
  bytes b{0};
  put_message_head(b, "@<>+fedactor::train_ins+fedactor::train_settings");
  const size_t name_end = 1 + 3 + std::string{"@<>+fedactor::train_ins"}.size();
  for (size_t n = 0; n < name_end; ++n) {
    INFO(n);
    CHECK(classify_basp_payload(2, b.data(), n, false) == std::nullopt);
    CHECK(classify_basp_payload(2, b.data(), n, true) == message_kind::other);
  }
  // The first name ends at the next '+': no more bytes needed.
  CHECK(classify_basp_payload(2, b.data(), name_end + 1, false) == message_kind::task);
}

TEST_CASE("payloads that do not parse in the bounded prefix count as other", "[host][bytes]") {
  bytes uri{1};
  put_u64(uri, 7);
  put_u64(uri, static_cast<uint64_t>(caf::atom("uri")));
  put_message_head(uri, "@<>+fedactor::train_res");
  CHECK(classify(2, uri) == message_kind::other);
  bytes nonzero{0, 0, 1, 3, '@', '<', '>'};  // begin_object's number is not 0
  CHECK(classify(2, nonzero) == message_kind::other);
  bytes not_a_message{0};
  put_message_head(not_a_message, "fedactor::train_res");
  CHECK(classify(2, not_a_message) == message_kind::other);
  bytes huge_stack{0x80, 0x80, 0x80, 0x80, 0x80, 0x01};  // varbyte longer than 5 bytes
  CHECK(classify(2, huge_stack) == message_kind::other);
  bytes many_stages{17};
  CHECK(classify(2, many_stages) == message_kind::other);
  CHECK(classify(4, bytes{0}) == message_kind::other);  // not an actor message
  // A first type name longer than the prefix: decided at max_peek_bytes without completion.
  bytes long_name{0, 0, 0, 0x90, 0x04};  // a 528-character name
  const std::string name = "@<>+" + std::string(524, 'x');
  long_name.insert(long_name.end(), name.begin(), name.end());
  CHECK(classify_basp_payload(2, long_name.data(), 400, false) == std::nullopt);
  CHECK(classify_basp_payload(2, long_name.data(), long_name.size(), false) == message_kind::other);
}

TEST_CASE("payloads written by CAF's serializer are classified by their message type",
          "[host][bytes]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  train_ins task;
  task.model = param_blob{std::vector<float>(1000, 0.5f)};
  const auto p = caf_payload(sys, caf::make_message(task));
  REQUIRE(p.size() > 4000);
  CHECK(classify(2, p) == message_kind::task);
  // Only the head is needed.
  CHECK(classify_basp_payload(2, p.data(), 40, false) == message_kind::task);
  CHECK(classify(2, caf_payload(sys, caf::make_message(edge_ins{}))) == message_kind::model);
  CHECK(classify(2, caf_payload(sys, caf::make_message(edge_res{}))) == message_kind::aggregate);
  CHECK(classify(2, caf_payload(sys, caf::make_message(train_res{}))) == message_kind::result);
  CHECK(classify(2, caf_payload(sys, caf::make_message(node_ack{}))) == message_kind::control);
  CHECK(classify(2, caf_payload(sys, caf::message{})) == message_kind::control);
}

TEST_CASE("registrations name the kind of peer that sends them", "[host][bytes]") {
  CHECK(registering_peer("fedactor::host_join") == peer_kind::client_host);
  CHECK(registering_peer("fedactor::edge_join") == peer_kind::edge);
  CHECK(registering_peer("fedactor::edge_rejoin") == peer_kind::edge);
  CHECK(registering_peer("fedactor::child_join") == peer_kind::edge);
  CHECK_FALSE(registering_peer("fedactor::node_hello"));
  CHECK_FALSE(registering_peer("fedactor::train_res"));
  CHECK(std::string{name_of(peer_kind::client_host)} == "client hosts");
  bytes b{0};
  put_message_head(b, "@<>+fedactor::child_join");
  const auto head = read_basp_payload_head(2, b.data(), b.size(), true);
  REQUIRE(head);
  CHECK(head->first_type == "fedactor::child_join");
  CHECK(head->kind == message_kind::control);
}
