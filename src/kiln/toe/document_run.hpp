#pragma once

// One document's run: its phases in document order, each step's condition, attempts, loop
// iterations, {{ }} resolution and action, and the statuses they add up to. The Runner
// (runner.hpp) drives one DocumentRun per document; ExecuteDocument nests them.

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kiln/document/model.hpp"
#include "kiln/document/reference.hpp"
#include "kiln/toe/action.hpp"
#include "kiln/toe/detailed_output.hpp"
#include "kiln/toe/run_log.hpp"

namespace kiln::toe {

using ParameterList = std::vector<std::pair<std::string, std::string>>;

// The deepest ExecuteDocument nesting: 3 levels below the top document (4 documents).
inline constexpr int kMaxDocumentNesting = 3;
// A step that asks for more reboots than this in a row fails instead of rebooting forever.
inline constexpr int kMaxRebootsPerStep = 10;

// What runs share: the machine, the clock, the logs and the cancel flag.
struct RunEnvironment {
  const Clock* clock = nullptr;
  const document::Probe* probe = nullptr;
  EnvLookup env;
  const std::atomic<bool>* cancel = nullptr;
  RunLog* log = nullptr;
  std::string execution_id;
  std::filesystem::path scratch_dir;  // private, removed after the run
};

// Where to pick up a document after a reboot: the results so far (the last phase's steps are
// the completed ones), the remembered `if` outcome of the step to resume, and its reboot count.
struct ResumePoint {
  DocumentResult partial;
  std::optional<document::Branch> condition_branch;
  int reboot_count = 0;
};

class DocumentRun final : public NestedRunner {
 public:
  // `variables` are the document's parameters (resolved) and constants. `stack` holds the
  // canonical paths of the documents that (transitively) execute this one.
  DocumentRun(const document::Document& document,
              std::map<std::string, std::string> variables,
              std::vector<std::string> phases,
              const RunEnvironment& environment,
              int depth,
              std::vector<std::string> stack);

  // Runs the document, from the start or from `resume`.
  DocumentResult run(const ResumePoint* resume = nullptr);

  // After run() returned kRebootRequested: what to save to resume.
  const std::optional<document::Branch>& pending_condition() const { return pending_branch_; }
  int pending_reboot_count() const { return pending_reboots_; }

  Result<RunResult> run_document(const std::string& path,
                                 const std::vector<std::string>& phases,
                                 const ParameterList& parameters) override;

 private:
  struct LoopState {
    std::string name;
    int64_t index = 0;
    std::string value;
  };
  struct ChainEntry {
    Json inputs;
    Json outputs;
  };

  bool phase_selected(const std::string& name) const;
  PhaseResult run_phase(const document::Phase& phase,
                        PhaseResult result,
                        size_t first_step,
                        const ResumePoint* resume,
                        bool& stop);
  StepResult run_step(const document::Step& step, const ResumePoint* resume);
  document::Branch decide(const document::Step& step, const ResumePoint* resume);
  ActionOutcome run_attempt(const document::Step& step, StepResult& result);
  ActionOutcome run_once(const document::Step& step,
                         const os::Deadline& deadline,
                         StepResult& result);
  ActionOutcome run_loop(const document::Step& step,
                         const os::Deadline& deadline,
                         StepResult& result);
  Result<std::vector<LoopState>> iterations(const document::Loop& loop);

  std::optional<std::string> resolve_reference(const document::Reference& ref);
  std::string resolve_string(const std::string& text);
  Json resolve_json(const Json& value);
  std::optional<std::string> context_value(const std::string& key);
  void remember(const std::string& phase, const StepResult& result);

  const document::Document& document_;
  std::map<std::string, std::string> variables_;
  std::vector<std::string> phases_;
  const RunEnvironment& env_;
  int depth_;
  std::vector<std::string> stack_;

  std::map<std::string, ChainEntry> chain_;
  std::optional<LoopState> loop_;
  std::string current_phase_;
  std::string current_step_;
  std::vector<std::string> resolve_errors_;
  std::optional<document::Branch> pending_branch_;
  int pending_reboots_ = 0;
  bool abort_ = false;
};

// Reads, validates and prepares a document's variables: defaults, then `parameters` in order
// (later wins); names the document does not declare are ignored, as awstoe does. A required
// parameter (no default) left without a value is an error.
Result<std::map<std::string, std::string>> document_variables(const document::Document& document,
                                                              const ParameterList& parameters);

}  // namespace kiln::toe
