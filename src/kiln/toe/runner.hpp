#pragma once

// `kiln-toe run` as a library: load and validate the documents, open (or resume) the log folder,
// run every document in order, write detailedoutput.json and chaining.json, and save the state
// when a step asks for a reboot.

#include <atomic>

#include "kiln/base/time.hpp"
#include "kiln/document/condition.hpp"
#include "kiln/toe/config.hpp"
#include "kiln/toe/detailed_output.hpp"

namespace kiln::toe {

// kiln-toe's exit codes (docs/toe.md).
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitReboot = 194;
inline constexpr int kExitCancelled = 130;

int exit_code_for(RunStatus status);

class Runner {
 public:
  // Everything passed must outlive the Runner. `cancel` may be null.
  Runner(const Clock& clock,
         const document::Probe& probe,
         EnvLookup env,
         const std::atomic<bool>* cancel);

  // Errors are problems before any step ran: unreadable or invalid documents, missing required
  // parameters, a state directory of another run, an unwritable log folder.
  Result<RunResult> run(const RunOptions& options);

 private:
  const Clock& clock_;
  const document::Probe& probe_;
  EnvLookup env_;
  const std::atomic<bool>* cancel_;
};

// Loads and validates documents; every problem of every document is in the error, one per line.
Result<std::vector<document::Document>> load_documents(const std::vector<DocumentSource>& sources,
                                                       const EnvLookup& env);

// The chaining expressions each step uses and the steps they resolve from (chaining.json).
Json chaining_report(const std::vector<document::Document>& documents);

}  // namespace kiln::toe
