#pragma once

// The runtime side of an action module: a function from resolved inputs to an outcome. The table
// in action.cpp binds each document::ModuleSpec name to its function.

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/document/model.hpp"
#include "kiln/os/process.hpp"

namespace kiln::toe {

using Json = nlohmann::ordered_json;

struct ActionOutcome {
  enum class Kind {
    kSuccess,
    kFailed,
    kRebootRequested,  // exit code 194 or the Reboot module: re-run (or continue) after reboot
  };
  Kind kind = Kind::kSuccess;
  std::string failure_message;  // kFailed: what went wrong, for the step's failureMessage
  // The step's outputs as one object ({"stdout": "..."}); detailedoutput.json writes it as a
  // one-element list, and {{ phase.step.outputs.NAME }} reads its members.
  Json outputs = Json::object();
  std::optional<int> exit_code;  // for Execute* modules
  std::string stderr_tail;       // the last lines of error output, for failure reasons

  static ActionOutcome success(Json outputs = Json::object()) {
    ActionOutcome o;
    o.outputs = std::move(outputs);
    return o;
  }
  static ActionOutcome failure(std::string message) {
    ActionOutcome o;
    o.kind = Kind::kFailed;
    o.failure_message = std::move(message);
    return o;
  }
};

// Where a step's output goes: console.log (unless the step has disableLogging) and, with --trace,
// the terminal. Implemented by the runner.
class StepOutput {
 public:
  virtual ~StepOutput() = default;
  // Output of a process the step runs, as it arrives.
  virtual void process_output(os::OutputStream stream, std::string_view chunk) = 0;
  // A line the module itself reports ("Downloaded https://... to /tmp/x (1234 bytes)").
  virtual void info(std::string_view line) = 0;
  // A detail for application.log only.
  virtual void debug(std::string_view line) = 0;
};

// Looks up an environment variable (the real environment, or a fixed map in tests).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();
// A lookup in `values` only (the lookup owns a copy).
EnvLookup fixed_env(std::map<std::string, std::string> values);

struct RunResult;

// Runs another document for ExecuteDocument. Implemented by the runner.
class NestedRunner {
 public:
  virtual ~NestedRunner() = default;
  // Runs the document at `path` with the given phases (empty: all) and parameters.
  virtual Result<RunResult> run_document(
      const std::string& path,
      const std::vector<std::string>& phases,
      const std::vector<std::pair<std::string, std::string>>& parameters) = 0;
};

// Everything a module may use while it runs. The module must stop when the deadline passes or
// *cancel becomes true, and report that as a failure.
struct ActionContext {
  const Json& inputs;  // resolved: an object (kObject modules) or an array of objects (kList)
  const document::Step& step;
  os::Deadline deadline;
  const std::atomic<bool>* cancel = nullptr;
  StepOutput& output;
  EnvLookup env;
  // Runs a nested document for ExecuteDocument; null where nesting is not available.
  NestedRunner* nested = nullptr;
  // The folder of the document the step is in, for relative paths (ExecuteDocument).
  std::string document_dir = {};
  // Resolves {{ }} references in a string of the step (Assert evaluates its expression with it).
  document::StringResolver resolve = {};
  // File-system probes for conditional expressions.
  const document::Probe* probe = nullptr;
  // A private folder that lives for the whole run (ExecuteBash writes its script there); empty
  // where none could be made.
  std::filesystem::path scratch_dir = {};
};

using ActionFn = ActionOutcome (*)(ActionContext& context);

// The implementation bound to `module_name`, or nullptr.
ActionFn find_action(std::string_view module_name);

// Input helpers shared by modules. A bool/int field may arrive as a string after {{ }}
// resolution; these convert it ("true"/"false", decimal).
std::string input_string(const Json& object, std::string_view key, std::string_view fallback = "");
Result<bool> input_bool(const Json& object, std::string_view key, bool fallback);
Result<int64_t> input_int(const Json& object, std::string_view key, int64_t fallback);
std::vector<std::string> input_string_list(const Json& object, std::string_view key);

// A deadline that has passed, or a cancellation, as a failure message; nullopt if neither.
std::optional<std::string> interrupted(const ActionContext& context);

// interrupted() as a Status: kCancelled with that message (for a deadline too), else ok.
Status check_interrupted(const ActionContext& context);

}  // namespace kiln::toe
