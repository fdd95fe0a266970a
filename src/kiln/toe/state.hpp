#pragma once

// The state directory: what a run saves when a step asks for a reboot, so that the same command
// run again (after the reboot) resumes at that step. docs/formats/toe-state.md describes the file.

#include <filesystem>
#include <optional>
#include <string>

#include "kiln/base/result.hpp"
#include "kiln/document/condition.hpp"
#include "kiln/toe/detailed_output.hpp"

namespace kiln::toe {

struct SavedState {
  std::string fingerprint;  // what was run: documents, phases, parameters (hashed)
  std::string log_folder;   // the TOE_ folder the run writes to
  RunResult run;            // results so far; the last document/phase is where to resume
  std::optional<document::Branch> condition_branch;  // the resumed step's `if` outcome
  int reboot_count = 0;                              // reboots the resumed step asked for in a row
};

// Loads <dir>/kiln-toe-state.json; nullopt when there is none.
Result<std::optional<SavedState>> load_state(const std::filesystem::path& dir);

// Saves atomically, readable by the owner only (it may hold step outputs).
Status save_state(const std::filesystem::path& dir, const SavedState& state);

// Removes the state file, if any.
Status clear_state(const std::filesystem::path& dir);

}  // namespace kiln::toe
