#include "kiln/toe/document_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/document/parser.hpp"
#include "kiln/document/reference.hpp"

namespace kiln::toe {
namespace {

using document::Branch;
using document::Reference;

std::string branch_name(Branch b) {
  switch (b) {
    case Branch::kExecute:
      return "Execute";
    case Branch::kSkip:
      return "Skip";
    case Branch::kAbort:
      return "Abort";
  }
  return "Execute";
}

// One key=value from /etc/os-release, unquoted.
std::string os_release(const std::string& key) {
  Result<std::string> text = read_file("/etc/os-release");
  if (!text) {
    return "";
  }
  for (const std::string& line : split(*text, '\n')) {
    if (starts_with(line, key + "=")) {
      std::string value = line.substr(key.size() + 1);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return "";
}

// A value from a chained step's inputs or outputs as text.
std::string as_text(const Json& value) {
  if (value.is_null()) {
    return "";
  }
  return value.is_string() ? value.get<std::string>() : json_text(value);
}

// Joins the outputs of successful loop iterations: strings with "\n", per output name.
void consolidate(Json& into, const Json& outputs) {
  for (auto it = outputs.begin(); it != outputs.end(); ++it) {
    if (!into.contains(it.key())) {
      into[it.key()] = it.value();
    } else if (into[it.key()].is_string() && it.value().is_string()) {
      into[it.key()] = into[it.key()].get<std::string>() + "\n" + it.value().get<std::string>();
    } else {
      into[it.key()] = it.value();
    }
  }
}

// Console output of one step: whole lines, prefixed as awstoe prints them.
class ConsoleOutput final : public StepOutput {
 public:
  ConsoleOutput(RunLog& log, bool suppressed) : log_(log), suppressed_(suppressed) {}
  ~ConsoleOutput() override { flush(); }

  void process_output(os::OutputStream stream, std::string_view chunk) override {
    if (suppressed_) {
      return;
    }
    std::string& buffer = stream == os::OutputStream::kStdout ? out_ : err_;
    buffer.append(chunk);
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      emit(stream, buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
  void info(std::string_view line) override {
    if (!suppressed_) {
      log_.console(line);
    }
  }
  void debug(std::string_view line) override {
    if (!suppressed_) {
      log_.app(line);
    }
  }
  void flush() {
    if (!out_.empty()) {
      emit(os::OutputStream::kStdout, out_);
      out_.clear();
    }
    if (!err_.empty()) {
      emit(os::OutputStream::kStderr, err_);
      err_.clear();
    }
  }

 private:
  void emit(os::OutputStream stream, std::string_view line) {
    log_.console(fmt::format(
        "CmdExecution: {}: {}", stream == os::OutputStream::kStdout ? "Stdout" : "Stderr", line));
  }
  RunLog& log_;
  bool suppressed_;
  std::string out_;
  std::string err_;
};

}  // namespace

Result<std::map<std::string, std::string>> document_variables(const document::Document& document,
                                                              const ParameterList& parameters) {
  std::map<std::string, std::string> values;
  for (const document::Constant& c : document.constants) {
    values[c.name] = c.value;
  }
  std::map<std::string, std::string> given;
  for (const auto& [name, value] : parameters) {
    given[name] = value;
  }
  std::vector<std::string> missing;
  for (const document::Parameter& p : document.parameters) {
    if (auto it = given.find(p.name); it != given.end()) {
      values[p.name] = it->second;
    } else if (p.default_value) {
      values[p.name] = *p.default_value;
    } else {
      missing.push_back(p.name);
    }
  }
  if (!missing.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: parameter{} {} {} required (no default): pass --parameters {}=VALUE",
                      document.path,
                      missing.size() > 1 ? "s" : "",
                      join(missing, ", "),
                      missing.size() > 1 ? "are" : "is",
                      missing[0]);
  }
  return values;
}

DocumentRun::DocumentRun(const document::Document& document,
                         std::map<std::string, std::string> variables,
                         std::vector<std::string> phases,
                         const RunEnvironment& environment,
                         int depth,
                         std::vector<std::string> stack)
    : document_(document),
      variables_(std::move(variables)),
      phases_(std::move(phases)),
      env_(environment),
      depth_(depth),
      stack_(std::move(stack)) {}

bool DocumentRun::phase_selected(const std::string& name) const {
  return phases_.empty() || std::find(phases_.begin(), phases_.end(), name) != phases_.end();
}

DocumentResult DocumentRun::run(const ResumePoint* resume) {
  DocumentResult result;
  result.name = document_.name;
  result.file_path = document_.path;
  result.description = document_.description;
  result.start_time = env_.clock->now();
  std::vector<PhaseResult> done;
  if (resume != nullptr) {
    result.start_time = resume->partial.start_time;
    done = resume->partial.phases;
    for (const PhaseResult& p : done) {
      for (const StepResult& s : p.steps) {
        remember(p.name, s);
      }
    }
  }
  env_.log->progress(fmt::format("Document {}", document_.path));
  bool stop = false;
  for (const document::Phase& phase : document_.phases) {
    if (stop || !phase_selected(phase.name)) {
      continue;
    }
    auto prior = std::find_if(
        done.begin(), done.end(), [&](const PhaseResult& p) { return p.name == phase.name; });
    bool resuming_here = prior != done.end() && std::next(prior) == done.end();
    if (prior != done.end() && !resuming_here) {
      result.phases.push_back(*prior);  // finished before the reboot
      continue;
    }
    PhaseResult start = resuming_here ? *prior : PhaseResult{};
    size_t first = resuming_here ? prior->steps.size() : 0;
    result.phases.push_back(
        run_phase(phase, std::move(start), first, resuming_here ? resume : nullptr, stop));
  }
  std::vector<RunStatus> statuses;
  for (const PhaseResult& p : result.phases) {
    statuses.push_back(p.status);
    if (result.failure_message.empty() && is_failure(p.status)) {
      result.failure_message = p.failure_message;
    }
  }
  result.status = combine_statuses(statuses);
  result.end_time = env_.clock->now();
  return result;
}

PhaseResult DocumentRun::run_phase(const document::Phase& phase,
                                   PhaseResult result,
                                   size_t first_step,
                                   const ResumePoint* resume,
                                   bool& stop) {
  if (first_step == 0) {
    result.name = phase.name;
    result.start_time = env_.clock->now();
  }
  current_phase_ = phase.name;
  env_.log->progress(fmt::format("Phase {}", phase.name));
  env_.log->app(
      fmt::format("phase {} of {}: {} steps", phase.name, document_.path, phase.steps.size()));
  bool cancelled = false;
  for (size_t i = first_step; i < phase.steps.size(); ++i) {
    if (env_.cancel != nullptr && env_.cancel->load()) {
      cancelled = true;
      stop = true;
      break;
    }
    StepResult step = run_step(phase.steps[i], i == first_step ? resume : nullptr);
    remember(phase.name, step);
    if (step.status == RunStatus::kRebootRequested) {
      // A Reboot step is done once the machine restarts: keep it and resume after it. A step
      // that exited 194 runs again after the restart: leave it out.
      if (phase.steps[i].action == "Reboot") {
        step.status = RunStatus::kSuccess;
        result.steps.push_back(std::move(step));
      }
      result.status = RunStatus::kRebootRequested;
      stop = true;
      return result;
    }
    if (is_failure(step.status) && result.failure_message.empty()) {
      result.failure_message =
          fmt::format("Step {} failed: {}", phase.steps[i].name, step.failure_message);
    }
    bool aborts = step.status == RunStatus::kCancelled || abort_ ||
                  (step.status == RunStatus::kFailed &&
                   phase.steps[i].on_failure == document::OnFailure::kAbort);
    result.steps.push_back(std::move(step));
    if (aborts) {
      stop = true;
      break;
    }
  }
  std::vector<RunStatus> statuses;
  for (const StepResult& s : result.steps) {
    statuses.push_back(s.status);
  }
  if (cancelled) {
    statuses.push_back(RunStatus::kCancelled);
    result.failure_message = "cancelled";
  }
  result.status = combine_statuses(statuses);
  result.end_time = env_.clock->now();
  return result;
}

Branch DocumentRun::decide(const document::Step& step, const ResumePoint* resume) {
  if (!step.condition) {
    return Branch::kExecute;
  }
  if (resume != nullptr && resume->condition_branch) {
    return *resume->condition_branch;  // an `if` is evaluated once, even across a reboot
  }
  bool value = document::evaluate(
      step.condition->expression,
      [this](const std::string& s) { return resolve_string(s); },
      *env_.probe);
  Branch branch = value ? step.condition->then_branch : step.condition->else_branch;
  env_.log->app(fmt::format("step {}: condition {} is {}: {}",
                            step.name,
                            document::describe(step.condition->expression),
                            value,
                            branch_name(branch)));
  return branch;
}

StepResult DocumentRun::run_step(const document::Step& step, const ResumePoint* resume) {
  StepResult result;
  result.name = step.name;
  result.action = step.action;
  result.timeout_seconds = step.timeout_seconds;
  result.on_failure = std::string(document::on_failure_name(step.on_failure));
  result.max_attempts = step.max_attempts;
  result.redact = step.disable_logging;
  result.start_time = env_.clock->now();
  result.inputs = step.inputs.is_array() ? step.inputs : Json::array({step.inputs});
  current_step_ = step.name;
  env_.log->progress(fmt::format("Step {} ({})", step.name, step.action));

  Branch branch = decide(step, resume);
  if (branch != Branch::kExecute) {
    result.status = branch == Branch::kSkip ? RunStatus::kSkipped : RunStatus::kFailed;
    if (branch == Branch::kAbort) {
      result.failure_message =
          fmt::format("condition {} chose Abort", document::describe(step.condition->expression));
      abort_ = true;
    }
    result.end_time = env_.clock->now();
    env_.log->progress(fmt::format("Step {}: {}", step.name, status_name(result.status)));
    return result;
  }
  pending_branch_ = step.condition ? std::optional<Branch>(branch) : std::nullopt;

  ActionOutcome outcome;
  for (int attempt = 1; attempt <= step.max_attempts; ++attempt) {
    outcome = run_attempt(step, result);
    bool cancelled = env_.cancel != nullptr && env_.cancel->load();
    if (outcome.kind != ActionOutcome::Kind::kFailed || cancelled) {
      break;
    }
    if (attempt < step.max_attempts) {
      env_.log->console(
          fmt::format("Step {}: attempt {} of {} failed: {}; trying again",
                      step.name,
                      attempt,
                      step.max_attempts,
                      step.disable_logging ? "(output hidden)" : outcome.failure_message));
    }
  }
  result.executed = true;
  result.outputs = outcome.outputs;
  result.exit_code = outcome.exit_code;
  result.stderr_tail = outcome.stderr_tail;
  switch (outcome.kind) {
    case ActionOutcome::Kind::kSuccess:
      result.status = RunStatus::kSuccess;
      break;
    case ActionOutcome::Kind::kRebootRequested: {
      int reboots = (resume != nullptr ? resume->reboot_count : 0) + 1;
      if (reboots > kMaxRebootsPerStep) {
        result.status = RunStatus::kFailed;
        result.failure_message =
            fmt::format("step asked for a reboot {} times in a row; giving up", reboots);
      } else {
        result.status = RunStatus::kRebootRequested;
        pending_reboots_ = step.action == "Reboot" ? 0 : reboots;
        if (step.action == "Reboot") {
          pending_branch_.reset();  // the next step resumes: its `if` is yet to be evaluated
        }
      }
      break;
    }
    case ActionOutcome::Kind::kFailed:
      result.failure_message = outcome.failure_message;
      if (env_.cancel != nullptr && env_.cancel->load()) {
        result.status = RunStatus::kCancelled;
      } else {
        result.status = step.on_failure == document::OnFailure::kIgnore ? RunStatus::kIgnoredFailure
                                                                        : RunStatus::kFailed;
      }
      break;
  }
  result.end_time = env_.clock->now();
  env_.log->progress(fmt::format(
      "Step {}: {}{}",
      step.name,
      status_name(result.status),
      result.failure_message.empty() || step.disable_logging ? "" : ": " + result.failure_message));
  return result;
}

ActionOutcome DocumentRun::run_attempt(const document::Step& step, StepResult& result) {
  os::Deadline deadline;
  if (step.timeout_seconds != document::kInfiniteTimeout) {
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(step.timeout_seconds);
  }
  return step.loop ? run_loop(step, deadline, result) : run_once(step, deadline, result);
}

ActionOutcome DocumentRun::run_once(const document::Step& step,
                                    const os::Deadline& deadline,
                                    StepResult& result) {
  resolve_errors_.clear();
  Json inputs = resolve_json(step.inputs);
  result.inputs = inputs.is_array() ? inputs : Json::array({inputs});
  if (!resolve_errors_.empty()) {
    return ActionOutcome::failure(join(resolve_errors_, "; "));
  }
  ActionFn fn = find_action(step.action);
  if (fn == nullptr) {
    return ActionOutcome::failure(fmt::format("action module {} is not implemented", step.action));
  }
  ConsoleOutput output(*env_.log, step.disable_logging);
  std::filesystem::path dir = std::filesystem::path(document_.path).parent_path();
  ActionContext context{inputs,
                        step,
                        deadline,
                        env_.cancel,
                        output,
                        env_.env,
                        this,
                        dir.empty() ? "." : dir.string(),
                        [this](const std::string& s) { return resolve_string(s); },
                        env_.probe,
                        env_.scratch_dir};
  ActionOutcome outcome = fn(context);
  if (step.action == "ExecuteDocument" && outcome.outputs.contains("detailedOutput")) {
    result.detailed_output = outcome.outputs["detailedOutput"];
    outcome.outputs.erase("detailedOutput");
  }
  return outcome;
}

Result<std::vector<DocumentRun::LoopState>> DocumentRun::iterations(const document::Loop& loop) {
  std::vector<LoopState> out;
  std::string name = loop.name;
  switch (loop.kind) {
    case document::Loop::Kind::kFor:
      // start + i * updateBy stays between start and end, so it never overflows.
      for (uint64_t i = 0, n = document::iteration_count(loop); i < n; ++i) {
        int64_t value = loop.start + static_cast<int64_t>(i) * loop.update_by;
        out.push_back({name, static_cast<int64_t>(i), std::to_string(value)});
      }
      break;
    case document::Loop::Kind::kForEachList:
      for (size_t i = 0; i < loop.items.size(); ++i) {
        out.push_back({name, static_cast<int64_t>(i), resolve_string(loop.items[i])});
      }
      break;
    case document::Loop::Kind::kForEachDelimited: {
      std::vector<std::string> items = split(resolve_string(loop.list), loop.delimiter);
      for (size_t i = 0; i < items.size(); ++i) {
        out.push_back({name, static_cast<int64_t>(i), items[i]});
      }
      break;
    }
  }
  return out;
}

ActionOutcome DocumentRun::run_loop(const document::Step& step,
                                    const os::Deadline& deadline,
                                    StepResult& result) {
  Result<std::vector<LoopState>> items = iterations(*step.loop);
  if (!items) {
    return ActionOutcome::failure(items.error().message);
  }
  Json outputs = Json::object();
  std::vector<std::string> failed;
  Json failed_json = Json::array();
  std::string last_failure;
  for (const LoopState& item : *items) {
    if (deadline && std::chrono::steady_clock::now() >= *deadline) {
      result.loop = Json{{"name", step.loop->name}, {"iterations", items->size()}};
      loop_.reset();
      return ActionOutcome::failure("loop run timed out");
    }
    loop_ = item;
    ActionOutcome one = run_once(step, deadline, result);
    if (one.kind == ActionOutcome::Kind::kRebootRequested) {
      loop_.reset();
      return one;
    }
    if (one.kind == ActionOutcome::Kind::kFailed) {
      failed.push_back(std::to_string(item.index));
      failed_json.push_back(item.index);
      last_failure = one.failure_message;
    } else {
      consolidate(outputs, one.outputs);
    }
  }
  loop_.reset();
  result.loop = Json{
      {"name", step.loop->name}, {"iterations", items->size()}, {"failedIterations", failed_json}};
  if (!failed.empty()) {
    ActionOutcome out = ActionOutcome::failure(fmt::format(
        "loop iterations {} failed; last failure: {}", join(failed, ", "), last_failure));
    out.outputs = outputs;
    return out;
  }
  return ActionOutcome::success(outputs);
}

void DocumentRun::remember(const std::string& phase, const StepResult& result) {
  chain_[phase + "." + result.name] = ChainEntry{result.inputs, result.outputs};
}

std::optional<std::string> DocumentRun::resolve_reference(const Reference& ref) {
  using K = Reference::Kind;
  switch (ref.kind) {
    case K::kVariable: {
      auto it = variables_.find(ref.name);
      return it != variables_.end() ? std::optional<std::string>(it->second) : std::nullopt;
    }
    case K::kChainInput:
    case K::kChainOutput: {
      auto it = chain_.find(ref.phase + "." + ref.step);
      if (it == chain_.end()) {
        return std::string();
      }
      if (ref.kind == K::kChainOutput) {
        return as_text(it->second.outputs.value(ref.field, Json()));
      }
      size_t index = ref.index.value_or(0);
      const Json& inputs = it->second.inputs;
      if (!inputs.is_array() || index >= inputs.size() || !inputs[index].is_object()) {
        return std::string();
      }
      return as_text(inputs[index].value(ref.field, Json()));
    }
    case K::kLoop:
      if (!loop_ || (ref.name != "loop" && ref.name != loop_->name)) {
        return std::nullopt;  // outside its loop a loop reference stays literal
      }
      return ref.field == "index" ? std::to_string(loop_->index) : loop_->value;
    case K::kEnv:
      return env_.env(ref.name).value_or("");
    case K::kContext:
      return context_value(ref.name);
    case K::kSsm:
      resolve_errors_.push_back(fmt::format(
          "'{{{{ {} }}}}' needs AWS Systems Manager, which kiln-toe does not use: pass the value "
          "as a parameter instead",
          ref.text));
      return std::nullopt;
    case K::kImds:
      resolve_errors_.push_back(fmt::format(
          "'{{{{ {} }}}}' needs the EC2 instance metadata service, which kiln instances do not "
          "have: use {{{{ context:... }}}} or a parameter",
          ref.text));
      return std::nullopt;
    case K::kInvalid:
      break;
  }
  return std::nullopt;
}

std::optional<std::string> DocumentRun::context_value(const std::string& key) {
  SystemTime now = env_.clock->now();
  if (key == "executionId") {
    return env_.execution_id;
  }
  if (key == "accountId") {
    return env_.env("KILN_ACCOUNT_ID").value_or("");
  }
  if (key == "region") {
    return env_.env("AWS_REGION").value_or(env_.env("AWS_DEFAULT_REGION").value_or(""));
  }
  if (key == "osPlatform") {
    return "linux";
  }
  if (key == "osName") {
    return os_release("NAME");
  }
  if (key == "osVersion") {
    return os_release("VERSION_ID");
  }
  if (key == "date") {
    return format_date_utc(now);
  }
  if (key == "dateTime") {
    return format_rfc3339_utc(now);
  }
  if (key == "uuid") {
    return make_uuid_v4();
  }
  if (key == "hostname") {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return std::string(name);
  }
  if (key == "phase") {
    return current_phase_;
  }
  if (key == "step") {
    return current_step_;
  }
  return std::nullopt;
}

std::string DocumentRun::resolve_string(const std::string& text) {
  return document::render_template(text,
                                   [this](const Reference& ref) { return resolve_reference(ref); });
}

Json DocumentRun::resolve_json(const Json& value) {
  if (value.is_string()) {
    return resolve_string(value.get<std::string>());
  }
  if (!value.is_structured()) {
    return value;
  }
  Json out = value;
  for (auto& item : out) {
    item = resolve_json(item);
  }
  return out;
}

Result<RunResult> DocumentRun::run_document(const std::string& path,
                                            const std::vector<std::string>& phases,
                                            const ParameterList& parameters) {
  if (depth_ >= kMaxDocumentNesting) {
    return make_error(ErrorCode::kInvalidArgument,
                      "ExecuteDocument nesting is limited to {} levels",
                      kMaxDocumentNesting);
  }
  std::filesystem::path full = path;
  if (full.is_relative()) {
    full = std::filesystem::path(document_.path).parent_path() / full;
  }
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(full, ec).string();
  if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "ExecuteDocument cycle: {} -> {}",
                      join(stack_, " -> "),
                      canonical);
  }
  document::ParseResult parsed = document::parse_document_file(full.string());
  if (!parsed.document) {
    std::vector<std::string> lines;
    for (const auto& d : parsed.diagnostics) {
      lines.push_back(document::format_diagnostic(d));
    }
    return make_error(
        ErrorCode::kInvalidArgument, "invalid document {}: {}", full.string(), join(lines, "; "));
  }
  auto variables = KILN_TRY(document_variables(*parsed.document, parameters));
  std::vector<std::string> stack = stack_;
  stack.push_back(canonical);
  DocumentRun nested(
      *parsed.document, std::move(variables), phases, env_, depth_ + 1, std::move(stack));
  RunResult run;
  run.execution_id = env_.execution_id;
  run.log_url = env_.log->folder().string();
  run.start_time = env_.clock->now();
  run.documents.push_back(nested.run());
  run.status = run.documents.back().status;
  if (is_failure(run.status)) {
    run.failure_message =
        fmt::format("Document {} failed! {}", full.string(), run.documents.back().failure_message);
  }
  run.end_time = env_.clock->now();
  return run;
}

}  // namespace kiln::toe
