#pragma once

// Forward declarations of the fedactor vocabulary.

#include <cstdint>

namespace fedactor {

class param_blob;
struct train_settings;
struct train_ins;
struct train_res;
struct edge_ins;
struct edge_res;
struct run_report;
enum class errc : uint8_t;

}  // namespace fedactor
