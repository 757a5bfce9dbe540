#pragma once

// CAF 0.17.6 puts the deadline of every request into the actor clock
// (local_actor::request_response_timeout) and never takes it out when the answer comes: the
// entry (about 150 bytes in the clock's schedule and actor lookup) stays until its deadline
// passes. An actor that sends many requests with long deadlines holds every one of them: the
// async server sends a task per update with deadline training.timeout_s × waves + 30 s (630 s
// for workload W1), so at 10,000 updates/s its clock would grow by 6 million entries (~1 GB)
// before the first deadline passes (found by bench/soak.cpp, docs/benchmarks.md). The handlers
// of such a request call forget_request_timeout with the request's response id
// (response_handle::id()) first.

#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>

namespace fedactor {

// Removes the pending timeout of the request answered by `response_id` from self's clock;
// nothing when it already fired.
inline void forget_request_timeout(caf::local_actor* self, caf::message_id response_id) {
  self->clock().cancel_request_timeout(self, response_id);
}

}  // namespace fedactor
