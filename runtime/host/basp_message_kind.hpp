#pragma once

// What kind of fedactor message a BASP actor-message frame carries, read from the first bytes
// of its payload without deserializing the content (runtime/host/basp_frame_check.hpp uses it
// to split the bytes a node's BASP guard relays by message kind).
//
// CAF 0.17.6 writes a direct message's payload (caf/io/basp/instance.cpp, dispatch) as
// sink(forwarding_stack, msg) and a routed message's as sink(source_node, dest_node,
// forwarding_stack, msg), with the binary serializer (caf/serializer_impl.hpp):
// - forwarding_stack: a varbyte count, then per entry an actor id (uint64, big endian) and a
//   node id; a node id is an atom (uint64): atom("") for none, atom("default") followed by a
//   process id (uint32) and a 20-byte host id, or atom("uri") followed by a URI;
// - msg (caf/message.cpp, message::save): begin_object(0, name), i.e. a uint16 0, then the
//   name as a varbyte length and its characters, then the elements. The name is "@<>"
//   followed by "+" and each element's registered type name: "@<>+fedactor::train_ins",
//   "@<>+@atom+...", "@<>+error", "@<>" for an empty message (a plain reply).
// The first element's name decides the kind. Only a bounded prefix is read
// (max_peek_bytes); a payload that does not parse in it (a URI node id, an over-long name,
// junk) is of kind `other`.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace fedactor {

enum class message_kind : size_t {
  task = 0,       // per-client work: train_ins, host_task, host_batch, async_ins
  model = 1,      // a round's model to an edge or the evaluator: edge_ins, eval_ins, run_report
  result = 2,     // a client's or the evaluator's answer: train_res, async_res, eval_res
  aggregate = 3,  // an edge's fold of its clients' updates: edge_res
  control = 4,    // registrations, acknowledgements, atoms, errors, empty replies, the rest
  other = 5,      // a payload whose type names could not be read in the bounded prefix
};
constexpr size_t message_kind_count = 6;

// "task", "model", "result", "aggregate", "control", "other".
const char* name_of(message_kind k);

// The kind of a message whose first element has this registered type name
// ("fedactor::train_ins"; "" for an empty message).
message_kind kind_of_type_name(const std::string& first_type);

// The most payload bytes read to classify a frame.
constexpr size_t max_peek_bytes = 512;

// What the head of an actor message's payload says: `kind`, and the first element's type name
// when it could be read ("" for an empty message or an unreadable head).
struct payload_head {
  message_kind kind = message_kind::other;
  std::string first_type;
};

// The head of the actor message (op 2 direct, op 3 routed) whose payload starts with these n
// bytes; nullopt when more bytes are needed to tell (and n < max_peek_bytes and !complete).
// `complete`: the n bytes are the whole payload.
std::optional<payload_head> read_basp_payload_head(unsigned op, const unsigned char* data, size_t n,
                                                   bool complete);

// Its kind alone.
std::optional<message_kind> classify_basp_payload(unsigned op, const unsigned char* data, size_t n,
                                                  bool complete);

// Who sends a registration of this type to a listening node: a client host (host_join) or an
// edge (edge_join, edge_rejoin, child_join); nullopt for any other type.
enum class peer_kind : size_t { edge = 0, client_host = 1, unregistered = 2 };
constexpr size_t peer_kind_count = 3;
const char* name_of(peer_kind k);  // "edges", "client hosts", "unregistered peers"
std::optional<peer_kind> registering_peer(const std::string& first_type);

}  // namespace fedactor
