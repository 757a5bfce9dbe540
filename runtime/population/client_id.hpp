#pragma once

// A client's identity: ids are dense, 0 .. clients-1, so per-client metadata lives in arrays.

#include <cstdint>

namespace fedactor {

using client_id = uint32_t;

}  // namespace fedactor
