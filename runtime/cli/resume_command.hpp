#pragma once

// `fedactor run --resume DIR`: continues the run whose output directory is DIR from its last
// checkpoint (DIR/checkpoint, docs/checkpoints.md), with DIR/scenario.yaml as it is: no
// scenario file, --set or --out (a resumed run is the same run). metrics.jsonl keeps the
// records up to the checkpoint and gets the rest appended; model.pt and summary.json are
// written at the end as by an uninterrupted run, with the same model_sha256.

#include <string>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// The checkpoint directory of a run's output directory.
std::string checkpoint_dir_of(const std::string& out_dir);

// Loads DIR/scenario.yaml of a run to resume and validates it; false with a one-line `error`
// (DIR not a directory, the file missing or invalid).
bool load_resume_scenario(const std::string& dir, scenario& sc, std::string& error);

// Exit status: 0 done; 2 no or a damaged checkpoint, a scenario.yaml that does not load, or an
// output directory that does not match the checkpoint (one line on stderr each); 1 the run
// failed.
int resume_run(const std::string& dir, int threads, bool quiet);

}  // namespace fedactor
