#pragma once

// What a run produced, as data: the result tree of documents, phases and steps, and its two
// renderings, detailedoutput.json and the summary JSON printed on stdout
// (docs/formats/toe-output.md describes both).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/time.hpp"
#include "kiln/document/model.hpp"

namespace kiln::toe {

using Json = nlohmann::ordered_json;

enum class RunStatus {
  kSuccess,
  kFailed,
  kSkipped,
  kIgnoredFailure,             // a step that failed with onFailure: Ignore
  kSuccessWithIgnoredFailure,  // a phase/document/run whose only failures were ignored
  kRebootRequested,            // the run stopped for a reboot; run again to resume
  kCancelled,
};

std::string_view status_name(RunStatus status);

// JSON text of `value`; invalid UTF-8 in strings (a command's output can hold anything) becomes
// U+FFFD instead of an exception.
std::string json_text(const Json& value, int indent = -1);
std::optional<RunStatus> parse_status(std::string_view name);

// Success, skipped, ignored failures and reboots count as not failed.
bool is_failure(RunStatus status);

struct StepResult {
  std::string name;
  std::string action;
  RunStatus status = RunStatus::kSuccess;
  std::string failure_message;
  int64_t timeout_seconds = 0;
  std::string on_failure;
  int max_attempts = 1;
  SystemTime start_time{};
  SystemTime end_time{};
  Json inputs = Json::array();    // resolved inputs as a list (an object input is one element)
  Json outputs = Json::object();  // the outputs object
  Json loop;                      // null, or {name, iterations, failedIterations}
  Json detailed_output;           // ExecuteDocument: the nested run's detailed output list
  bool redact = false;            // disableLogging: values are hidden in the written logs
  bool executed = false;          // the action ran (not skipped by its condition)
  std::optional<int> exit_code;
  std::string stderr_tail;
};

struct PhaseResult {
  std::string name;
  RunStatus status = RunStatus::kSuccess;
  std::string failure_message;
  SystemTime start_time{};
  SystemTime end_time{};
  std::vector<StepResult> steps;
};

struct DocumentResult {
  std::string name;
  std::string file_path;
  std::string description;
  RunStatus status = RunStatus::kSuccess;
  std::string failure_message;
  SystemTime start_time{};
  SystemTime end_time{};
  std::vector<PhaseResult> phases;
};

struct RunResult {
  std::string execution_id;
  RunStatus status = RunStatus::kSuccess;
  std::string failure_message;
  SystemTime start_time{};
  SystemTime end_time{};
  std::string log_url;
  std::vector<DocumentResult> documents;
};

struct StepCounts {
  int executed = 0;
  int failed = 0;
  int ignored_failed = 0;
};
StepCounts count_steps(const RunResult& run);

// The step's status from a phase's point of view: combines step statuses into a phase status
// (any failed -> failed; else any ignored -> SuccessWithIgnoredFailure; else success).
RunStatus combine_statuses(const std::vector<RunStatus>& statuses);

// detailedoutput.json: inputs and outputs as JSON-encoded strings of lists, timestamps RFC 3339
// in local time, redacted values replaced by "***".
Json detailed_output(const RunResult& run);

// The summary printed on stdout and returned by ExecuteDocument.
Json summary(const RunResult& run);

// Lossless JSON for the state directory (resume after reboot); keeps values unredacted.
Json to_state_json(const RunResult& run);
RunResult run_from_state_json(const Json& json);

}  // namespace kiln::toe
