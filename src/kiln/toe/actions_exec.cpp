// Action modules that run programs, documents and checks: ExecuteBash, ExecuteBinary,
// ExecuteDocument, Assert, Reboot, UpdateOS, and the Windows-only modules.
//
// Decisions where AWS is silent (docs/toe.md repeats them):
// - ExecuteBash writes the commands to a private script file and runs it with bash; where a root
//   filesystem has no bash (busybox), it runs the script with sh and says so in console.log.
// - A step's processes form one process group; when the step ends, times out or is cancelled,
//   the whole group is killed, so nothing a step started outlives it.
// - The `stdout` output is the step's standard output without its trailing newlines.
// - A failed command's failureMessage ends with the last lines of its standard error, unless
//   the step has disableLogging.
// - UpdateOS on apt: `apt-get update` then `apt-get -y upgrade` (everything) or
//   `apt-get -y install --only-upgrade` (include); excluded packages are held for the upgrade.

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "kiln/base/file.hpp"
#include "kiln/base/scope_exit.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/toe/actions.hpp"
#include "kiln/toe/detailed_output.hpp"

extern "C" char** environ;

namespace kiln::toe::actions {
namespace {

constexpr int kRebootExitCode = 194;
constexpr size_t kStderrTailLines = 10;

std::string trim_trailing_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

// Runs argv as the step's process; maps exit 194 to a reboot request.
ActionOutcome run_command(ActionContext& context,
                          const std::vector<std::string>& argv,
                          std::vector<std::string> env = {}) {
  os::ProcessSpec spec{argv, std::move(env), {}};
  auto result = os::run_process(
      spec, context.deadline, context.cancel, [&](os::OutputStream stream, std::string_view chunk) {
        context.output.process_output(stream, chunk);
      });
  if (!result) {
    return ActionOutcome::failure(result.error().message);
  }
  if (result->timed_out) {
    return ActionOutcome::failure(
        fmt::format("step timed out after {} seconds; its processes were killed",
                    context.step.timeout_seconds));
  }
  if (result->cancelled) {
    return ActionOutcome::failure("cancelled; the step's processes were killed");
  }
  context.output.info(fmt::format("CmdExecution: ExitCode {}", result->exit_code));
  ActionOutcome outcome;
  outcome.exit_code = result->exit_code;
  outcome.outputs = Json{{"stdout", trim_trailing_newlines(result->stdout_text)}};
  outcome.stderr_tail = context.step.disable_logging
                            ? std::string()
                            : tail_lines(result->stderr_text, kStderrTailLines);
  if (result->exit_code == kRebootExitCode) {
    outcome.kind = ActionOutcome::Kind::kRebootRequested;
    context.output.info("CmdExecution: exit code 194: reboot requested; the step runs again");
  } else if (result->exit_code != 0) {
    outcome.kind = ActionOutcome::Kind::kFailed;
    outcome.failure_message = result->signal != 0
                                  ? fmt::format("command was killed by signal {}", result->signal)
                                  : fmt::format("command exited with code {}", result->exit_code);
    if (!outcome.stderr_tail.empty()) {
      outcome.failure_message += ": " + outcome.stderr_tail;
    }
  }
  return outcome;
}

std::string shell_for(ActionContext& context) {
  if (os::find_program("bash")) {
    return "bash";
  }
  context.output.info("bash not found: running the script with sh");
  return "sh";
}

bool interruptible_sleep(ActionContext& context, std::chrono::seconds duration) {
  auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    if (interrupted(context)) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// A copy of the expression with its {{ }} references resolved, for failure messages.
document::Condition resolved_copy(const document::Condition& c,
                                  const document::StringResolver& resolve) {
  document::Condition out = c;
  out.operand = resolve(c.operand);
  if (c.value) {
    out.value = resolve(*c.value);
  }
  if (c.path) {
    out.path = resolve(*c.path);
  }
  for (auto& child : out.children) {
    child = resolved_copy(child, resolve);
  }
  return out;
}

}  // namespace

ActionOutcome execute_bash(ActionContext& context) {
  std::string script = join(input_string_list(context.inputs, "commands"), "\n") + "\n";
  std::string shell = shell_for(context);
  if (context.scratch_dir.empty()) {
    // No writable temporary folder: pass the script inline (fine below the 128 KiB arg limit).
    return run_command(context, {shell, "-c", script});
  }
  // Steps run one at a time (a nested document's steps too), so one script file is enough.
  std::filesystem::path file = context.scratch_dir / "input.sh";
  if (Status written = write_file(file, script, 0700); !written) {
    return ActionOutcome::failure(written.error().message);
  }
  KILN_DEFER(::unlink(file.c_str()));
  return run_command(context, {shell, file.string()});
}

ActionOutcome execute_binary(ActionContext& context) {
  std::vector<std::string> argv{input_string(context.inputs, "path")};
  for (std::string& arg : input_string_list(context.inputs, "arguments")) {
    argv.push_back(std::move(arg));
  }
  return run_command(context, argv);
}

ActionOutcome execute_document(ActionContext& context) {
  if (context.nested == nullptr) {
    return ActionOutcome::failure("ExecuteDocument is not available here");
  }
  std::string path = input_string(context.inputs, "document");
  if (starts_with(path, "s3://") || starts_with(path, "arn:")) {
    return ActionOutcome::failure(fmt::format(
        "ExecuteDocument: '{}': only local documents can be executed; copy it first", path));
  }
  std::vector<std::string> phases;
  for (const std::string& p : split(input_string(context.inputs, "phases"), ',')) {
    if (!trim(p).empty()) {
      phases.emplace_back(trim(p));
    }
  }
  std::vector<std::pair<std::string, std::string>> parameters;
  if (auto it = context.inputs.find("parameters"); it != context.inputs.end()) {
    for (const Json& p : *it) {
      parameters.emplace_back(input_string(p, "name"), input_string(p, "value"));
    }
  }
  context.output.info(fmt::format("ExecuteDocument: running {}", path));
  Result<RunResult> run = context.nested->run_document(path, phases, parameters);
  if (!run) {
    return ActionOutcome::failure("ExecuteDocument: " + run.error().message);
  }
  Json outputs = summary(*run);
  outputs["detailedOutput"] = Json::array({detailed_output(*run)});
  ActionOutcome outcome = ActionOutcome::success(outputs);
  if (run->status == RunStatus::kRebootRequested) {
    outcome.kind = ActionOutcome::Kind::kRebootRequested;
  } else if (is_failure(run->status)) {
    outcome.kind = ActionOutcome::Kind::kFailed;
    outcome.failure_message = run->failure_message;
  }
  return outcome;
}

ActionOutcome assert_expression(ActionContext& context) {
  if (!context.step.assertion || context.probe == nullptr) {
    return ActionOutcome::failure("Assert has no expression");
  }
  if (document::evaluate(*context.step.assertion, context.resolve, *context.probe)) {
    return ActionOutcome::success();
  }
  return ActionOutcome::failure(
      fmt::format("assertion is false: {}",
                  document::describe(resolved_copy(*context.step.assertion, context.resolve))));
}

ActionOutcome reboot(ActionContext& context) {
  Result<int64_t> delay = input_int(context.inputs, "delaySeconds", 0);
  if (!delay || *delay < 0) {
    return ActionOutcome::failure("Reboot: delaySeconds must be a whole number of seconds >= 0");
  }
  if (*delay > 0 && !interruptible_sleep(context, std::chrono::seconds(*delay))) {
    return ActionOutcome::failure(interrupted(context).value_or("interrupted"));
  }
  context.output.info("Reboot requested");
  ActionOutcome outcome;
  outcome.kind = ActionOutcome::Kind::kRebootRequested;
  return outcome;
}

namespace {

std::vector<std::string> subtract(const std::vector<std::string>& include,
                                  const std::vector<std::string>& exclude) {
  std::vector<std::string> out;
  for (const std::string& p : include) {
    if (std::find(exclude.begin(), exclude.end(), p) == exclude.end()) {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<std::string> with(std::vector<std::string> argv, const std::vector<std::string>& more) {
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

std::vector<std::string> apt_env() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.emplace_back(*e);
  }
  env.emplace_back("DEBIAN_FRONTEND=noninteractive");
  return env;
}

ActionOutcome update_with_apt(ActionContext& context,
                              const std::vector<std::string>& include,
                              const std::vector<std::string>& exclude) {
  std::vector<std::string> env = apt_env();
  ActionOutcome out = run_command(context, {"apt-get", "update"}, env);
  if (out.kind != ActionOutcome::Kind::kSuccess) {
    return out;
  }
  if (!exclude.empty() && include.empty()) {
    out = run_command(context, with({"apt-mark", "hold"}, exclude), env);
    if (out.kind != ActionOutcome::Kind::kSuccess) {
      return out;
    }
  }
  std::vector<std::string> opts{"apt-get",
                                "-y",
                                "-o",
                                "Dpkg::Options::=--force-confdef",
                                "-o",
                                "Dpkg::Options::=--force-confold"};
  out =
      include.empty()
          ? run_command(context, with(opts, {"upgrade"}), env)
          : run_command(context,
                        with(with(opts, {"install", "--only-upgrade"}), subtract(include, exclude)),
                        env);
  if (!exclude.empty() && include.empty()) {
    run_command(context, with({"apt-mark", "unhold"}, exclude), env);
  }
  return out;
}

ActionOutcome update_with_rpm(ActionContext& context,
                              const std::string& tool,
                              const std::vector<std::string>& include,
                              const std::vector<std::string>& exclude) {
  std::vector<std::string> argv{tool, "-y", "upgrade"};
  for (const std::string& p : subtract(include, exclude)) {
    argv.push_back(p);
  }
  for (const std::string& p : exclude) {
    argv.push_back("--exclude=" + p);
  }
  return run_command(context, argv);
}

}  // namespace

ActionOutcome update_os(ActionContext& context) {
  std::vector<std::string> include = input_string_list(context.inputs, "include");
  std::vector<std::string> exclude = input_string_list(context.inputs, "exclude");
  ActionOutcome out;
  if (os::find_program("apt-get")) {
    out = update_with_apt(context, include, exclude);
  } else if (os::find_program("dnf")) {
    out = update_with_rpm(context, "dnf", include, exclude);
  } else if (os::find_program("yum")) {
    out = update_with_rpm(context, "yum", include, exclude);
  } else {
    return ActionOutcome::failure("UpdateOS: no package manager found (apt-get, dnf or yum)");
  }
  out.outputs = Json::object();
  return out;
}

ActionOutcome windows_only(ActionContext& context) {
  return ActionOutcome::failure(fmt::format(
      "{} is a Windows action module and is not supported on Linux", context.step.action));
}

}  // namespace kiln::toe::actions
