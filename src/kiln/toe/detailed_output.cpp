#include "kiln/toe/detailed_output.hpp"

#include <algorithm>

namespace kiln::toe {
namespace {

constexpr std::pair<RunStatus, std::string_view> kStatusNames[] = {
    {RunStatus::kSuccess, "success"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kSkipped, "skipped"},
    {RunStatus::kIgnoredFailure, "IgnoredFailure"},
    {RunStatus::kSuccessWithIgnoredFailure, "SuccessWithIgnoredFailure"},
    {RunStatus::kRebootRequested, "rebootRequested"},
    {RunStatus::kCancelled, "cancelled"},
};

std::string time_text(SystemTime t) {
  return format_rfc3339_local(t);
}

int64_t to_millis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SystemTime from_millis(int64_t ms) {
  return SystemTime(std::chrono::milliseconds(ms));
}

// Replaces every string value with "***", keeping the shape.
Json redacted(const Json& value) {
  if (value.is_string()) {
    return "***";
  }
  if (value.is_structured()) {
    Json out = value;
    for (auto& item : out) {
      item = redacted(item);
    }
    return out;
  }
  return value;
}

Json step_json(const StepResult& s) {
  Json outputs = Json::array({s.redact ? redacted(s.outputs) : s.outputs});
  Json inputs = s.redact ? redacted(s.inputs) : s.inputs;
  return Json{{"name", s.name},
              {"status", status_name(s.status)},
              {"failureMessage", s.failure_message},
              {"timeoutSeconds", s.timeout_seconds},
              {"onFailure", s.on_failure},
              {"maxAttempts", s.max_attempts},
              {"action", s.action},
              {"startTime", time_text(s.start_time)},
              {"endTime", time_text(s.end_time)},
              {"inputs", json_text(inputs)},
              {"outputs", json_text(outputs)},
              {"loop", s.loop},
              {"detailedOutput", s.detailed_output}};
}

Json phase_json(const PhaseResult& p) {
  Json steps = Json::array();
  for (const StepResult& s : p.steps) {
    steps.push_back(step_json(s));
  }
  return Json{{"name", p.name},
              {"status", status_name(p.status)},
              {"startTime", time_text(p.start_time)},
              {"endTime", time_text(p.end_time)},
              {"failureMessage", p.failure_message},
              {"steps", steps}};
}

Json document_json(const DocumentResult& d) {
  Json phases = Json::array();
  for (const PhaseResult& p : d.phases) {
    phases.push_back(phase_json(p));
  }
  return Json{{"name", d.name},
              {"filePath", d.file_path},
              {"status", status_name(d.status)},
              {"description", d.description},
              {"startTime", time_text(d.start_time)},
              {"endTime", time_text(d.end_time)},
              {"failureMessage", d.failure_message},
              {"phases", phases}};
}

}  // namespace

std::string json_text(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string_view status_name(RunStatus status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) {
      return name;
    }
  }
  return "failed";
}

std::optional<RunStatus> parse_status(std::string_view name) {
  for (const auto& [s, n] : kStatusNames) {
    if (n == name) {
      return s;
    }
  }
  return std::nullopt;
}

bool is_failure(RunStatus status) {
  return status == RunStatus::kFailed || status == RunStatus::kCancelled;
}

StepCounts count_steps(const RunResult& run) {
  StepCounts counts;
  for (const DocumentResult& d : run.documents) {
    for (const PhaseResult& p : d.phases) {
      for (const StepResult& s : p.steps) {
        counts.executed += s.executed ? 1 : 0;
        counts.failed += is_failure(s.status) ? 1 : 0;
        counts.ignored_failed += s.status == RunStatus::kIgnoredFailure ? 1 : 0;
      }
    }
  }
  return counts;
}

RunStatus combine_statuses(const std::vector<RunStatus>& statuses) {
  auto has = [&](RunStatus s) {
    return std::find(statuses.begin(), statuses.end(), s) != statuses.end();
  };
  if (has(RunStatus::kCancelled)) {
    return RunStatus::kCancelled;
  }
  if (has(RunStatus::kFailed)) {
    return RunStatus::kFailed;
  }
  if (has(RunStatus::kRebootRequested)) {
    return RunStatus::kRebootRequested;
  }
  if (has(RunStatus::kIgnoredFailure) || has(RunStatus::kSuccessWithIgnoredFailure)) {
    return RunStatus::kSuccessWithIgnoredFailure;
  }
  return RunStatus::kSuccess;
}

Json detailed_output(const RunResult& run) {
  Json documents = Json::array();
  for (const DocumentResult& d : run.documents) {
    documents.push_back(document_json(d));
  }
  return Json{{"executionId", run.execution_id},
              {"status", status_name(run.status)},
              {"startTime", time_text(run.start_time)},
              {"endTime", time_text(run.end_time)},
              {"failureMessage", run.failure_message},
              {"documents", documents}};
}

Json summary(const RunResult& run) {
  StepCounts counts = count_steps(run);
  return Json{{"executionId", run.execution_id},
              {"status", status_name(run.status)},
              {"failedStepCount", counts.failed},
              {"executedStepCount", counts.executed},
              {"ignoredFailedStepCount", counts.ignored_failed},
              {"failureMessage", run.failure_message},
              {"logUrl", run.log_url}};
}

// ---- lossless state form ----

namespace {

Json step_state(const StepResult& s) {
  Json j{{"name", s.name},
         {"action", s.action},
         {"status", status_name(s.status)},
         {"failureMessage", s.failure_message},
         {"timeoutSeconds", s.timeout_seconds},
         {"onFailure", s.on_failure},
         {"maxAttempts", s.max_attempts},
         {"start", to_millis(s.start_time)},
         {"end", to_millis(s.end_time)},
         {"inputs", s.inputs},
         {"outputs", s.outputs},
         {"loop", s.loop},
         {"detailedOutput", s.detailed_output},
         {"redact", s.redact},
         {"executed", s.executed},
         {"stderrTail", s.stderr_tail}};
  if (s.exit_code) {
    j["exitCode"] = *s.exit_code;
  }
  return j;
}

StepResult step_from_state(const Json& j) {
  StepResult s;
  s.name = j.value("name", "");
  s.action = j.value("action", "");
  s.status = parse_status(j.value("status", "")).value_or(RunStatus::kFailed);
  s.failure_message = j.value("failureMessage", "");
  s.timeout_seconds = j.value("timeoutSeconds", int64_t{0});
  s.on_failure = j.value("onFailure", "");
  s.max_attempts = j.value("maxAttempts", 1);
  s.start_time = from_millis(j.value("start", int64_t{0}));
  s.end_time = from_millis(j.value("end", int64_t{0}));
  s.inputs = j.value("inputs", Json::array());
  s.outputs = j.value("outputs", Json::object());
  s.loop = j.value("loop", Json());
  s.detailed_output = j.value("detailedOutput", Json());
  s.redact = j.value("redact", false);
  s.executed = j.value("executed", false);
  s.stderr_tail = j.value("stderrTail", "");
  if (j.contains("exitCode")) {
    s.exit_code = j["exitCode"].get<int>();
  }
  return s;
}

}  // namespace

Json to_state_json(const RunResult& run) {
  Json documents = Json::array();
  for (const DocumentResult& d : run.documents) {
    Json phases = Json::array();
    for (const PhaseResult& p : d.phases) {
      Json steps = Json::array();
      for (const StepResult& s : p.steps) {
        steps.push_back(step_state(s));
      }
      phases.push_back(Json{{"name", p.name},
                            {"status", status_name(p.status)},
                            {"failureMessage", p.failure_message},
                            {"start", to_millis(p.start_time)},
                            {"end", to_millis(p.end_time)},
                            {"steps", steps}});
    }
    documents.push_back(Json{{"name", d.name},
                             {"filePath", d.file_path},
                             {"description", d.description},
                             {"status", status_name(d.status)},
                             {"failureMessage", d.failure_message},
                             {"start", to_millis(d.start_time)},
                             {"end", to_millis(d.end_time)},
                             {"phases", phases}});
  }
  return Json{{"executionId", run.execution_id},
              {"status", status_name(run.status)},
              {"failureMessage", run.failure_message},
              {"start", to_millis(run.start_time)},
              {"end", to_millis(run.end_time)},
              {"logUrl", run.log_url},
              {"documents", documents}};
}

RunResult run_from_state_json(const Json& j) {
  RunResult run;
  run.execution_id = j.value("executionId", "");
  run.status = parse_status(j.value("status", "")).value_or(RunStatus::kFailed);
  run.failure_message = j.value("failureMessage", "");
  run.start_time = from_millis(j.value("start", int64_t{0}));
  run.end_time = from_millis(j.value("end", int64_t{0}));
  run.log_url = j.value("logUrl", "");
  for (const Json& dj : j.value("documents", Json::array())) {
    DocumentResult d;
    d.name = dj.value("name", "");
    d.file_path = dj.value("filePath", "");
    d.description = dj.value("description", "");
    d.status = parse_status(dj.value("status", "")).value_or(RunStatus::kFailed);
    d.failure_message = dj.value("failureMessage", "");
    d.start_time = from_millis(dj.value("start", int64_t{0}));
    d.end_time = from_millis(dj.value("end", int64_t{0}));
    for (const Json& pj : dj.value("phases", Json::array())) {
      PhaseResult p;
      p.name = pj.value("name", "");
      p.status = parse_status(pj.value("status", "")).value_or(RunStatus::kFailed);
      p.failure_message = pj.value("failureMessage", "");
      p.start_time = from_millis(pj.value("start", int64_t{0}));
      p.end_time = from_millis(pj.value("end", int64_t{0}));
      for (const Json& sj : pj.value("steps", Json::array())) {
        p.steps.push_back(step_from_state(sj));
      }
      d.phases.push_back(std::move(p));
    }
    run.documents.push_back(std::move(d));
  }
  return run;
}

}  // namespace kiln::toe
