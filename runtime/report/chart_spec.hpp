#pragma once

// The charts of a `fedactor report` page: one Chart.js configuration per metric, the runs
// overlaid (one dataset per run, named and coloured by it). Charts without data in any run
// are left out.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/report/run_data.hpp"

namespace fedactor {

struct chart_spec {
  std::string id;         // DOM id of its canvas: "loss-round"
  std::string section;    // the heading it appears under: "Training", "Async", ...
  std::string title;      // "Training loss by round"
  std::string note;       // one line under the title: what is drawn, what is left out
  nlohmann::json config;  // the Chart.js 3 configuration: type, data, options
  size_t points = 0;      // data points over all its datasets (the page checks it drew them)
};

// The sections, in page order.
const std::vector<std::string>& report_sections();

// The colour of the i-th run ("#0072b2"): the same in every chart and in the tables.
std::string run_color(size_t i);

// The charts of `runs` (named by `names`, one per run), in page order.
std::vector<chart_spec> report_charts(const std::vector<run_data>& runs,
                                      const std::vector<std::string>& names);

}  // namespace fedactor
