#include "kiln/toe/runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::toe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// 2021-08-27T00:20:31Z, fixed: folder names and timestamps are predictable.
class FixedClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime(std::chrono::seconds(1630023631)); }
};

constexpr const char* kExecutionId = "11111111-2222-4333-8444-555555555555";

// Documents are raw strings that start on the line after R"(.
std::string doc(const char* text) {
  std::string s = text;
  if (!s.empty() && s.front() == '\n') {
    s.erase(0, 1);
  }
  return s;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-runner-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    work_ = dir_->path() / "work";
    fs::create_directories(work_);
  }

  // Writes a document; {DIR} in it becomes the test's work folder.
  std::string write_doc(const std::string& name, const std::string& text) {
    std::string expanded = text;
    for (size_t at; (at = expanded.find("{DIR}")) != std::string::npos;) {
      expanded.replace(at, 5, work_.string());
    }
    fs::path path = dir_->path() / name;
    fs::create_directories(path.parent_path());
    EXPECT_TRUE(write_file(path, expanded).ok());
    return path.string();
  }

  RunOptions options_for(const std::vector<std::string>& paths) const {
    RunOptions options;
    for (const std::string& p : paths) {
      options.documents.push_back({p, {}});
    }
    options.execution_id = kExecutionId;
    options.log_directory = dir_->path() / "logs";
    options.echo = RunLog::Echo::kNone;
    return options;
  }

  EnvLookup env_lookup() const { return fixed_env(env_); }

  Result<RunResult> run(const RunOptions& options, const std::atomic<bool>* cancel = nullptr) {
    Runner runner(clock_, probe_, env_lookup(), cancel);
    return runner.run(options);
  }

  // Runs and expects the run to start (whatever its status).
  RunResult run_ok(const RunOptions& options) {
    Result<RunResult> result = run(options);
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? std::move(result).value() : RunResult{};
  }

  std::string work_file(const std::string& name) const {
    return read_file(work_ / name).value_or("<missing>");
  }

  fs::path dir() const { return dir_->path(); }

  FixedClock clock_;
  document::SystemProbe probe_;
  std::map<std::string, std::string> env_;
  std::optional<TempDir> dir_;
  fs::path work_;
};

const PhaseResult* find_phase(const RunResult& run, const std::string& phase, size_t doc = 0) {
  if (doc >= run.documents.size()) {
    return nullptr;
  }
  for (const PhaseResult& p : run.documents[doc].phases) {
    if (p.name == phase) {
      return &p;
    }
  }
  return nullptr;
}

const StepResult* find_step(const RunResult& run,
                            const std::string& phase,
                            const std::string& step,
                            size_t doc = 0) {
  const PhaseResult* p = find_phase(run, phase, doc);
  if (p == nullptr) {
    return nullptr;
  }
  for (const StepResult& s : p->steps) {
    if (s.name == step) {
      return &s;
    }
  }
  return nullptr;
}

std::string stdout_of(const StepResult* step) {
  if (step == nullptr) {
    return "<no step>";
  }
  return step->outputs.value("stdout", "<no stdout>");
}

std::vector<std::string> step_names(const PhaseResult* phase) {
  std::vector<std::string> names;
  if (phase != nullptr) {
    for (const StepResult& s : phase->steps) {
      names.push_back(s.name);
    }
  }
  return names;
}

// ==== a successful run and its files ========================================================

TEST_F(RunnerTest, ASuccessfulRunWritesTheFiveFilesInItsFolder) {
  std::string text = doc(R"(
name: hello
description: says hello
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands:
            - echo hello
            - echo to-stderr >&2
      - name: World
        action: ExecuteBash
        inputs:
          commands:
            - 'echo "{{ build.Hello.outputs.stdout }} world"'
)");
  std::string path = write_doc("hello.yaml", text);
  RunResult result = run_ok(options_for({path}));

  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(result.execution_id, kExecutionId);
  EXPECT_EQ(result.failure_message, "");
  fs::path folder = dir() / "logs" / ("TOE_2021-08-27_00-20-31_UTC-0_" + std::string(kExecutionId));
  EXPECT_EQ(result.log_url, folder.string());
  ASSERT_TRUE(fs::is_directory(folder));

  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files,
            (std::vector<std::string>{"application.log",
                                      "chaining.json",
                                      "console.log",
                                      "detailedoutput.json",
                                      "document.yaml"}));

  EXPECT_EQ(read_file(folder / "document.yaml").value(), text);
  std::string console = read_file(folder / "console.log").value();
  EXPECT_THAT(console, HasSubstr("CmdExecution: Stdout: hello\n"));
  EXPECT_THAT(console, HasSubstr("CmdExecution: Stderr: to-stderr\n"));
  EXPECT_THAT(console, HasSubstr("CmdExecution: Stdout: hello world\n"));
  std::string app = read_file(folder / "application.log").value();
  EXPECT_THAT(app, HasSubstr("execution " + std::string(kExecutionId)));
  EXPECT_THAT(app, HasSubstr("finished: success"));

  Json detailed = Json::parse(read_file(folder / "detailedoutput.json").value());
  EXPECT_EQ(detailed, detailed_output(result));
  EXPECT_EQ(detailed["status"], "success");
  EXPECT_EQ(detailed["documents"][0]["name"], "hello");
  EXPECT_EQ(detailed["documents"][0]["filePath"], path);
  EXPECT_EQ(detailed["documents"][0]["phases"][0]["steps"][1]["outputs"],
            R"([{"stdout":"hello world"}])");

  Json chaining = Json::parse(read_file(folder / "chaining.json").value());
  ASSERT_EQ(chaining.size(), 1u);
  EXPECT_EQ(chaining[0]["step"], "World");
  EXPECT_EQ(chaining[0]["expressions"], Json::array({"build.Hello.outputs.stdout"}));

  EXPECT_EQ(stdout_of(find_step(result, "build", "World")), "hello world");
  StepCounts counts = count_steps(result);
  EXPECT_EQ(counts.executed, 2);
  EXPECT_EQ(counts.failed, 0);
  EXPECT_FALSE(fs::exists(dir() / "logs" / ".kiln-toe-state" / "kiln-toe-state.json"));
}

TEST_F(RunnerTest, StepsRecordTheirSettingsAndTimes) {
  std::string path = write_doc("settings.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Configured
        action: ExecuteBash
        timeoutSeconds: 60
        onFailure: Continue
        maxAttempts: 2
        inputs:
          commands:
            - 'true'
)"));
  RunResult result = run_ok(options_for({path}));
  const StepResult* step = find_step(result, "build", "Configured");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->timeout_seconds, 60);
  EXPECT_EQ(step->on_failure, "Continue");
  EXPECT_EQ(step->max_attempts, 2);
  EXPECT_EQ(step->start_time, clock_.now());
  EXPECT_EQ(step->end_time, clock_.now());
  EXPECT_EQ(step->exit_code, 0);
  EXPECT_TRUE(step->executed);
}

TEST_F(RunnerTest, DocumentsRunInOrderAndPhasesCanBeSelected) {
  std::string a = write_doc("a.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: A1
        action: ExecuteBash
        inputs:
          commands: ['echo a-build >> "{DIR}/order"']
  - name: test
    steps:
      - name: A2
        action: ExecuteBash
        inputs:
          commands: ['echo a-test >> "{DIR}/order"']
)"));
  std::string b = write_doc("b.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: B1
        action: ExecuteBash
        inputs:
          commands: ['echo b-test >> "{DIR}/order"']
  - name: build
    steps:
      - name: B2
        action: ExecuteBash
        inputs:
          commands: ['echo b-build >> "{DIR}/order"']
)"));
  RunOptions options = options_for({a, b});
  options.phases = {"test", "build"};  // the order given does not matter: document order does
  RunResult result = run_ok(options);
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(work_file("order"), "a-build\na-test\nb-test\nb-build\n");

  ASSERT_TRUE(fs::remove(work_ / "order"));
  options.phases = {"test"};
  options.execution_id = "second";
  run_ok(options);
  EXPECT_EQ(work_file("order"), "a-test\nb-test\n");
}

TEST_F(RunnerTest, DisableLoggingKeepsValuesOutOfTheLogs) {
  env_["SECRET"] = "hunter2";
  std::string path = write_doc("secret.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Secret
        action: ExecuteBash
        disableLogging: true
        inputs:
          commands:
            - 'echo "{{ env:SECRET }}"'
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(stdout_of(find_step(result, "build", "Secret")), "hunter2");
  fs::path folder = result.log_url;
  EXPECT_THAT(read_file(folder / "console.log").value(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(read_file(folder / "detailedoutput.json").value(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(read_file(folder / "application.log").value(), Not(HasSubstr("hunter2")));
}

// ==== onFailure ==============================================================================

TEST_F(RunnerTest, OnFailureIgnoreContinueAndAbort) {
  std::string path = write_doc("onfailure.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Ignored
        action: ExecuteBash
        onFailure: Ignore
        inputs:
          commands: ['exit 3']
      - name: Continued
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands: ['echo oops >&2', 'exit 4']
      - name: RunsAfterContinue
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/after-continue"']
      - name: Aborted
        action: ExecuteBash
        inputs:
          commands: ['exit 5']
      - name: NeverRuns
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/never"']
  - name: validate
    steps:
      - name: NeverRunsEither
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/never-validate"']
)"));
  RunResult result = run_ok(options_for({path}));

  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_EQ(exit_code_for(result.status), kExitFailed);
  const PhaseResult* build = find_phase(result, "build");
  ASSERT_NE(build, nullptr);
  EXPECT_EQ(step_names(build),
            (std::vector<std::string>{"Ignored", "Continued", "RunsAfterContinue", "Aborted"}));
  EXPECT_EQ(find_step(result, "build", "Ignored")->status, RunStatus::kIgnoredFailure);
  EXPECT_EQ(find_step(result, "build", "Ignored")->exit_code, 3);
  EXPECT_EQ(find_step(result, "build", "Continued")->status, RunStatus::kFailed);
  EXPECT_EQ(find_step(result, "build", "Continued")->failure_message,
            "command exited with code 4: oops");
  EXPECT_EQ(find_step(result, "build", "RunsAfterContinue")->status, RunStatus::kSuccess);
  EXPECT_EQ(find_step(result, "build", "Aborted")->status, RunStatus::kFailed);
  EXPECT_TRUE(fs::exists(work_ / "after-continue"));
  EXPECT_FALSE(fs::exists(work_ / "never"));
  EXPECT_FALSE(fs::exists(work_ / "never-validate"));
  EXPECT_EQ(find_phase(result, "validate"), nullptr);

  // The first failure names the step; it rises to the document and the run.
  EXPECT_EQ(build->status, RunStatus::kFailed);
  EXPECT_EQ(build->failure_message, "Step Continued failed: command exited with code 4: oops");
  EXPECT_EQ(result.documents[0].failure_message, build->failure_message);
  EXPECT_EQ(
      result.failure_message,
      "Document " + path + " failed! Step Continued failed: command exited with code 4: oops");

  StepCounts counts = count_steps(result);
  EXPECT_EQ(counts.executed, 4);
  EXPECT_EQ(counts.failed, 2);
  EXPECT_EQ(counts.ignored_failed, 1);
  Json s = summary(result);
  EXPECT_EQ(s["status"], "failed");
  EXPECT_EQ(s["failedStepCount"], 2);
  EXPECT_EQ(s["executedStepCount"], 4);
  EXPECT_EQ(s["ignoredFailedStepCount"], 1);
}

TEST_F(RunnerTest, OnlyIgnoredFailuresMakeSuccessWithIgnoredFailure) {
  std::string path = write_doc("ignore.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Ignored
        action: ExecuteBash
        onFailure: Ignore
        inputs:
          commands: ['exit 1']
      - name: Fine
        action: ExecuteBash
        inputs:
          commands: ['true']
  - name: validate
    steps:
      - name: AlsoFine
        action: ExecuteBash
        inputs:
          commands: ['true']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccessWithIgnoredFailure);
  EXPECT_EQ(exit_code_for(result.status), kExitSuccess);
  EXPECT_EQ(find_phase(result, "build")->status, RunStatus::kSuccessWithIgnoredFailure);
  EXPECT_EQ(find_phase(result, "validate")->status, RunStatus::kSuccess);
  EXPECT_EQ(result.failure_message, "");
  EXPECT_EQ(count_steps(result).ignored_failed, 1);
  EXPECT_EQ(count_steps(result).failed, 0);
}

TEST_F(RunnerTest, ContinueLetsLaterPhasesRunButTheRunFails) {
  std::string path = write_doc("continue.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Tolerated
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands: ['exit 1']
  - name: validate
    steps:
      - name: Later
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/later"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_TRUE(fs::exists(work_ / "later"));
  EXPECT_EQ(find_phase(result, "build")->status, RunStatus::kFailed);
  EXPECT_EQ(find_phase(result, "validate")->status, RunStatus::kSuccess);
  EXPECT_EQ(result.status, RunStatus::kFailed);
}

TEST_F(RunnerTest, AFailedDocumentStopsTheDocumentsAfterIt) {
  std::string bad = write_doc("bad.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Fails
        action: ExecuteBash
        inputs:
          commands: ['exit 1']
)"));
  std::string good = write_doc("good.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Touch
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/second-document"']
)"));
  RunResult result = run_ok(options_for({bad, good}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_EQ(result.documents.size(), 1u);
  EXPECT_FALSE(fs::exists(work_ / "second-document"));
}

TEST_F(RunnerTest, AStepSkippedByItsConditionCountsAsSuccess) {
  std::string path = write_doc("skip.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Skipped
        action: ExecuteBash
        if:
          fileExists: '{DIR}/absent'
        inputs:
          commands: ['touch "{DIR}/skipped-ran"']
      - name: Runs
        action: ExecuteBash
        if:
          folderExists: '{DIR}'
        inputs:
          commands: ['touch "{DIR}/ran"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(find_step(result, "build", "Skipped")->status, RunStatus::kSkipped);
  EXPECT_FALSE(find_step(result, "build", "Skipped")->executed);
  EXPECT_FALSE(fs::exists(work_ / "skipped-ran"));
  EXPECT_TRUE(fs::exists(work_ / "ran"));
  EXPECT_EQ(count_steps(result).executed, 1);
}

TEST_F(RunnerTest, AStepThatRunsTooLongTimesOut) {
  std::string path = write_doc("timeout.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Slow
        action: ExecuteBash
        timeoutSeconds: 1
        inputs:
          commands: ['sleep 30']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_THAT(find_step(result, "build", "Slow")->failure_message,
              HasSubstr("timed out after 1 seconds"));
}

// ==== maxAttempts ============================================================================

TEST_F(RunnerTest, MaxAttemptsRetriesUntilTheStepSucceeds) {
  std::string path = write_doc("retry.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Flaky
        action: ExecuteBash
        maxAttempts: 5
        inputs:
          commands:
            - 'echo attempt >> "{DIR}/attempts"'
            - 'test $(wc -l < "{DIR}/attempts") -ge 3'
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(work_file("attempts"), "attempt\nattempt\nattempt\n");
  std::string console = read_file(fs::path(result.log_url) / "console.log").value();
  EXPECT_THAT(console, HasSubstr("Step Flaky: attempt 1 of 5 failed"));
  EXPECT_THAT(console, HasSubstr("Step Flaky: attempt 2 of 5 failed"));
  EXPECT_THAT(console, Not(HasSubstr("attempt 3 of 5 failed")));
}

TEST_F(RunnerTest, MaxAttemptsGivesUpAfterTheLastAttempt) {
  std::string path = write_doc("retry.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Broken
        action: ExecuteBash
        maxAttempts: 3
        inputs:
          commands:
            - 'echo attempt >> "{DIR}/attempts"'
            - 'exit 9'
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_EQ(work_file("attempts"), "attempt\nattempt\nattempt\n");
  EXPECT_EQ(find_step(result, "build", "Broken")->failure_message, "command exited with code 9");
  EXPECT_EQ(count_steps(result).executed, 1);  // one step, however many attempts
}

TEST_F(RunnerTest, MaxAttemptsRunsEveryLoopIterationAgain) {
  std::string path = write_doc("retry-loop.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Looped
        action: ExecuteBash
        maxAttempts: 2
        loop:
          forEach: [a, b, c]
        inputs:
          commands:
            - 'echo {{ loop.value }} >> "{DIR}/iterations"'
            - 'if [ {{ loop.value }} = b ] && [ ! -e "{DIR}/b-failed" ]; then touch "{DIR}/b-failed"; exit 1; fi'
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  // The first attempt fails at b but finishes its iterations; the second starts again at a.
  EXPECT_EQ(work_file("iterations"), "a\nb\nc\na\nb\nc\n");
  const StepResult* step = find_step(result, "build", "Looped");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->loop["failedIterations"], Json::array());
}

// ==== loops ==================================================================================

TEST_F(RunnerTest, ALoopReportsFailedIterationsAndConsolidatesTheRest) {
  std::string path = write_doc("loop.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Each
        action: ExecuteBash
        onFailure: Continue
        loop:
          name: letters
          forEach: [a, b, c, d]
        inputs:
          commands:
            - 'echo "{{ letters.index }}{{ letters.value }}"'
            - 'test "{{ loop.value }}" != b -a "{{ loop.value }}" != d'
      - name: Use
        action: ExecuteBash
        inputs:
          commands:
            - 'echo "{{ build.Each.outputs.stdout }}" | tr "\n" +'
)"));
  RunResult result = run_ok(options_for({path}));
  const StepResult* each = find_step(result, "build", "Each");
  ASSERT_NE(each, nullptr);
  EXPECT_EQ(each->status, RunStatus::kFailed);
  EXPECT_EQ(each->failure_message,
            "loop iterations 1, 3 failed; last failure: command exited with code 1");
  EXPECT_EQ(each->loop,
            (Json{{"name", "letters"}, {"iterations", 4}, {"failedIterations", {1, 3}}}));
  EXPECT_EQ(stdout_of(each), "0a\n2c");  // only the successful iterations
  // Continue: the next step runs and chains the consolidated output.
  EXPECT_EQ(stdout_of(find_step(result, "build", "Use")), "0a+2c+");
}

TEST_F(RunnerTest, ForLoopsCountWithTheirStep) {
  std::string path = write_doc("for.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Up
        action: ExecuteBash
        loop:
          for:
            start: 1
            end: 6
            updateBy: 2
        inputs:
          commands: ['echo "{{ loop.index }}:{{ loop.value }}"']
      - name: Down
        action: ExecuteBash
        loop:
          name: n
          for:
            start: 3
            end: 1
            updateBy: -1
        inputs:
          commands: ['echo "{{ n.value }}"']
      - name: Delimited
        action: ExecuteBash
        loop:
          forEach:
            list: 'x;y'
            delimiter: ';'
        inputs:
          commands: ['echo "{{ loop.value }}"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(stdout_of(find_step(result, "build", "Up")), "0:1\n1:3\n2:5");
  EXPECT_EQ(stdout_of(find_step(result, "build", "Down")), "3\n2\n1");
  EXPECT_EQ(stdout_of(find_step(result, "build", "Delimited")), "x\ny");
}

// ==== chaining, parameters and references ====================================================

TEST_F(RunnerTest, ChainingReadsOutputsAndIndexedInputsAcrossPhases) {
  std::string path = write_doc("chain.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Make
        action: CreateFile
        inputs:
          - path: '{DIR}/first.txt'
            content: one
          - path: '{DIR}/second.txt'
            content: two
      - name: Echo
        action: ExecuteBash
        inputs:
          commands: ['echo from-echo']
      - name: Use
        action: ExecuteBash
        inputs:
          commands:
            - 'cat "{{ build.Make.inputs[1].path }}"'
            - 'echo " {{ build.Make.inputs.path }} {{ build.Echo.outputs.stdout }}"'
  - name: validate
    steps:
      - name: Cross
        action: ExecuteBash
        inputs:
          commands: ['echo "{{ build.Use.outputs.stdout }}|{{ build.Make.inputs[0].content }}"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess) << result.failure_message;
  std::string first = (work_ / "first.txt").string();
  EXPECT_EQ(stdout_of(find_step(result, "build", "Use")), "two " + first + " from-echo");
  EXPECT_EQ(stdout_of(find_step(result, "validate", "Cross")), "two " + first + " from-echo|one");
  // The resolved inputs are what detailedoutput.json shows.
  const StepResult* use = find_step(result, "build", "Use");
  EXPECT_EQ(use->inputs[0]["commands"][0], "cat \"" + (work_ / "second.txt").string() + "\"");
  Json chaining = Json::parse(read_file(fs::path(result.log_url) / "chaining.json").value());
  ASSERT_EQ(chaining.size(), 2u);
  EXPECT_EQ(chaining[0]["step"], "Use");
  EXPECT_EQ(
      chaining[0]["expressions"],
      (Json{"build.Make.inputs[1].path", "build.Make.inputs.path", "build.Echo.outputs.stdout"}));
}

TEST_F(RunnerTest, AMissingRequiredParameterIsAnError) {
  std::string path = write_doc("required.yaml", doc(R"(
schemaVersion: 1.0
parameters:
  - Needed:
      type: string
phases:
  - name: build
    steps:
      - name: Use
        action: ExecuteBash
        inputs:
          commands: ['echo "{{ Needed }}"']
)"));
  Result<RunResult> result = run(options_for({path}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message, HasSubstr("parameter Needed is required"));
  EXPECT_THAT(result.error().message, HasSubstr("--parameters Needed=VALUE"));
  EXPECT_FALSE(fs::exists(dir() / "logs"));  // nothing ran, no log folder
}

TEST_F(RunnerTest, ParametersOverrideDefaultsAndUnknownNamesAreIgnored) {
  std::string path = write_doc("params.yaml", doc(R"(
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
  - Target:
      type: string
      default: world
  - PerDoc:
      type: string
      default: default
constants:
  - Sep:
      type: string
      value: ', '
phases:
  - name: build
    steps:
      - name: Say
        action: ExecuteBash
        inputs:
          commands: ['echo "{{ Greeting }}{{ Sep }}{{ Target }} {{ PerDoc }}"']
)"));
  RunOptions options = options_for({path});
  options.parameters = {{"Greeting", "howdy"}, {"NotDeclared", "x"}, {"PerDoc", "global"}};
  options.documents[0].parameters = {{"PerDoc", "own"}};  // a document's own value wins
  RunResult result = run_ok(options);
  EXPECT_EQ(result.status, RunStatus::kSuccess) << result.failure_message;
  EXPECT_EQ(stdout_of(find_step(result, "build", "Say")), "howdy, world own");
}

TEST_F(RunnerTest, EnvReferencesUseTheEnvLookup) {
  env_["KILN_GREETING"] = "from the map";
  std::string path = write_doc("env.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Env
        action: ExecuteBash
        inputs:
          commands: ['echo "[{{ env:KILN_GREETING }}][{{ env:KILN_UNSET_VARIABLE }}]"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kSuccess);
  EXPECT_EQ(stdout_of(find_step(result, "build", "Env")), "[from the map][]");
}

TEST_F(RunnerTest, ContextReferencesResolve) {
  std::string path = write_doc("context.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Ctx
        action: ExecuteBash
        inputs:
          commands:
            - 'echo "{{ context:executionId }} {{ context:phase }} {{ context:step }} {{ context:date }} {{ context:dateTime }} {{ context:osPlatform }}"'
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(stdout_of(find_step(result, "build", "Ctx")),
            std::string(kExecutionId) + " build Ctx 2021-08-27 2021-08-27T00:20:31Z linux");
}

TEST_F(RunnerTest, SsmReferencesFailTheStepWithAMessage) {
  std::string path = write_doc("ssm.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Secret
        action: ExecuteBash
        inputs:
          commands: ['echo "{{ aws:ssm:/my/param }}" > "{DIR}/ssm-ran"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  const StepResult* step = find_step(result, "build", "Secret");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->status, RunStatus::kFailed);
  EXPECT_THAT(step->failure_message, HasSubstr("'{{ aws:ssm:/my/param }}'"));
  EXPECT_THAT(step->failure_message, HasSubstr("Systems Manager"));
  EXPECT_FALSE(fs::exists(work_ / "ssm-ran"));  // the command never ran
}

// ==== reboot and resume ======================================================================

const char* kRebootDoc = R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Before
        action: ExecuteBash
        inputs:
          commands: ['echo before >> "{DIR}/log"', 'echo out-of-before']
      - name: NeedsReboot
        action: ExecuteBash
        inputs:
          commands:
            - 'echo needs-reboot >> "{DIR}/log"'
            - 'if [ -e "{DIR}/rebooted" ]; then echo resumed; exit 0; fi'
            - 'touch "{DIR}/rebooted"'
            - 'exit 194'
      - name: After
        action: ExecuteBash
        inputs:
          commands: ['echo "after {{ build.Before.outputs.stdout }}" >> "{DIR}/log"']
  - name: validate
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands: ['echo validate >> "{DIR}/log"']
)";

TEST_F(RunnerTest, Exit194SavesStateAndTheNextRunResumesInTheSameFolder) {
  std::string path = write_doc("reboot.yaml", doc(kRebootDoc));
  RunOptions options = options_for({path});
  options.execution_id = "";  // generated: the resumed run must keep it
  fs::path state_file = dir() / "logs" / ".kiln-toe-state" / "kiln-toe-state.json";

  RunResult first = run_ok(options);
  EXPECT_EQ(first.status, RunStatus::kRebootRequested);
  EXPECT_EQ(exit_code_for(first.status), kExitReboot);
  EXPECT_EQ(step_names(find_phase(first, "build")), std::vector<std::string>{"Before"});
  EXPECT_EQ(find_phase(first, "build")->status, RunStatus::kRebootRequested);
  EXPECT_EQ(work_file("log"), "before\nneeds-reboot\n");
  EXPECT_TRUE(fs::exists(state_file));
  Json detailed = Json::parse(read_file(fs::path(first.log_url) / "detailedoutput.json").value());
  EXPECT_EQ(detailed["status"], "rebootRequested");

  RunResult second = run_ok(options);
  EXPECT_EQ(second.status, RunStatus::kSuccess) << second.failure_message;
  EXPECT_EQ(second.execution_id, first.execution_id);
  EXPECT_EQ(second.log_url, first.log_url);
  // Before did not run again; NeedsReboot did, and chaining still sees Before's outputs.
  EXPECT_EQ(work_file("log"),
            "before\nneeds-reboot\nneeds-reboot\nafter out-of-before\nvalidate\n");
  EXPECT_EQ(step_names(find_phase(second, "build")),
            (std::vector<std::string>{"Before", "NeedsReboot", "After"}));
  EXPECT_EQ(stdout_of(find_step(second, "build", "NeedsReboot")), "resumed");
  EXPECT_EQ(find_phase(second, "validate")->status, RunStatus::kSuccess);
  EXPECT_FALSE(fs::exists(state_file));
  EXPECT_EQ(count_steps(second).executed, 4);

  // One folder, holding both runs' logs and the final detailed output.
  size_t folders = 0;
  for (const auto& entry : fs::directory_iterator(dir() / "logs")) {
    folders += entry.path().filename().string().rfind("TOE_", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(folders, 1u);
  std::string app = read_file(fs::path(second.log_url) / "application.log").value();
  EXPECT_THAT(app, HasSubstr("resuming execution " + first.execution_id));
  detailed = Json::parse(read_file(fs::path(second.log_url) / "detailedoutput.json").value());
  EXPECT_EQ(detailed["status"], "success");

  // A third run starts afresh.
  ASSERT_TRUE(fs::remove(work_ / "log"));
  RunResult third = run_ok(options);
  EXPECT_NE(third.execution_id, first.execution_id);
  EXPECT_EQ(third.status, RunStatus::kSuccess);
}

TEST_F(RunnerTest, TheRebootModuleResumesAfterItself) {
  std::string path = write_doc("reboot-module.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: First
        action: ExecuteBash
        inputs:
          commands: ['echo first >> "{DIR}/log"']
      - name: Restart
        action: Reboot
      - name: Second
        action: ExecuteBash
        inputs:
          commands: ['echo second >> "{DIR}/log"']
)"));
  RunOptions options = options_for({path});
  options.state_directory = dir() / "state";
  RunResult first = run_ok(options);
  EXPECT_EQ(first.status, RunStatus::kRebootRequested);
  EXPECT_EQ(step_names(find_phase(first, "build")), (std::vector<std::string>{"First", "Restart"}));
  EXPECT_TRUE(fs::exists(dir() / "state" / "kiln-toe-state.json"));
  EXPECT_EQ(work_file("log"), "first\n");

  RunResult second = run_ok(options);
  EXPECT_EQ(second.status, RunStatus::kSuccess);
  EXPECT_EQ(work_file("log"), "first\nsecond\n");
  EXPECT_EQ(find_step(second, "build", "Restart")->status, RunStatus::kSuccess);
  EXPECT_FALSE(fs::exists(dir() / "state" / "kiln-toe-state.json"));
}

TEST_F(RunnerTest, AResumedRunSkipsTheDocumentsThatFinished) {
  std::string first_doc = write_doc("first.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Once
        action: ExecuteBash
        inputs:
          commands: ['echo first >> "{DIR}/log"']
)"));
  std::string reboot_doc = write_doc("reboot.yaml", doc(kRebootDoc));
  RunOptions options = options_for({first_doc, reboot_doc});
  RunResult first = run_ok(options);
  ASSERT_EQ(first.status, RunStatus::kRebootRequested);
  EXPECT_EQ(first.documents.size(), 2u);
  EXPECT_EQ(first.documents[0].status, RunStatus::kSuccess);
  EXPECT_EQ(first.documents[1].status, RunStatus::kRebootRequested);

  RunResult second = run_ok(options);
  EXPECT_EQ(second.status, RunStatus::kSuccess) << second.failure_message;
  EXPECT_EQ(work_file("log"),
            "first\nbefore\nneeds-reboot\nneeds-reboot\nafter out-of-before\nvalidate\n");
  ASSERT_EQ(second.documents.size(), 2u);
  EXPECT_EQ(second.documents[0].file_path, first_doc);
  EXPECT_EQ(count_steps(second).executed, 5);
}

TEST_F(RunnerTest, AStepThatAsksForRebootsForeverFails) {
  std::string path = write_doc("forever.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Forever
        action: ExecuteBash
        inputs:
          commands: ['echo run >> "{DIR}/runs"', 'exit 194']
)"));
  RunOptions options = options_for({path});
  for (int i = 1; i <= kMaxRebootsPerStep; ++i) {
    ASSERT_EQ(run_ok(options).status, RunStatus::kRebootRequested) << "run " << i;
  }
  RunResult last = run_ok(options);
  EXPECT_EQ(last.status, RunStatus::kFailed);
  EXPECT_THAT(find_step(last, "build", "Forever")->failure_message,
              HasSubstr("asked for a reboot 11 times in a row"));
  EXPECT_EQ(split(work_file("runs"), '\n').size(), static_cast<size_t>(kMaxRebootsPerStep + 2));
  EXPECT_FALSE(fs::exists(dir() / "logs" / ".kiln-toe-state" / "kiln-toe-state.json"));
}

TEST_F(RunnerTest, AStateOfOtherDocumentsIsAConflict) {
  std::string reboot = write_doc("reboot.yaml", doc(kRebootDoc));
  std::string other = write_doc("other.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Other
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/other-ran"']
)"));
  RunResult first = run_ok(options_for({reboot}));
  ASSERT_EQ(first.status, RunStatus::kRebootRequested);

  Result<RunResult> conflicting = run(options_for({other}));
  ASSERT_FALSE(conflicting.ok());
  EXPECT_EQ(conflicting.error().code, ErrorCode::kConflict);
  EXPECT_THAT(conflicting.error().message, HasSubstr("holds an interrupted run"));
  EXPECT_THAT(conflicting.error().message, HasSubstr(kExecutionId));
  EXPECT_FALSE(fs::exists(work_ / "other-ran"));

  // Other phases or parameters of the same document are other runs too.
  RunOptions other_phases = options_for({reboot});
  other_phases.phases = {"build"};
  EXPECT_EQ(run(other_phases).error().code, ErrorCode::kConflict);
  RunOptions other_parameters = options_for({reboot});
  other_parameters.parameters = {{"Unused", "x"}};
  EXPECT_EQ(run(other_parameters).error().code, ErrorCode::kConflict);

  // The interrupted run itself still resumes.
  EXPECT_EQ(run_ok(options_for({reboot})).status, RunStatus::kSuccess);
}

TEST_F(RunnerTest, AStateFileThatIsNotKilnToesIsACorruptionError) {
  std::string path = write_doc("simple.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Touch
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/ran"']
)"));
  RunOptions options = options_for({path});
  options.state_directory = dir() / "state";
  fs::create_directories(options.state_directory);
  fs::path state_file = options.state_directory / "kiln-toe-state.json";
  for (const char* text : {"not json",
                           R"({"version": 99})",
                           R"({"version": 1, "fingerprint": 5})",
                           R"({"version": 1, "run": {"executionId": ["x"]}})",
                           R"({"version": 1, "run": {"documents": [{"phases": [{"steps": [
                               {"name": "s", "maxAttempts": "three"}]}]}]}})"}) {
    ASSERT_TRUE(write_file(state_file, text).ok());
    Result<RunResult> result = run(options);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_EQ(result.error().code, ErrorCode::kCorruption) << text;
    EXPECT_THAT(result.error().message, HasSubstr(state_file.string()));
  }
  EXPECT_FALSE(fs::exists(work_ / "ran"));
}

// ==== ExecuteDocument ========================================================================

TEST_F(RunnerTest, ExecuteDocumentRunsANestedDocument) {
  write_doc("docs/child.yaml", doc(R"(
name: child
schemaVersion: 1.0
parameters:
  - Colour:
      type: string
phases:
  - name: build
    steps:
      - name: Paint
        action: ExecuteBash
        inputs:
          commands: ['echo "{{ Colour }}" >> "{DIR}/child"']
  - name: validate
    steps:
      - name: Skipped
        action: ExecuteBash
        inputs:
          commands: ['echo validate >> "{DIR}/child"']
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands: ['echo test >> "{DIR}/child"']
)"));
  std::string parent = write_doc("parent.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: RunChild
        action: ExecuteDocument
        inputs:
          document: docs/child.yaml
          phases: build,test
          parameters:
            - name: Colour
              value: teal
      - name: Status
        action: ExecuteBash
        inputs:
          commands:
            - 'echo "{{ build.RunChild.outputs.status }}/{{ build.RunChild.outputs.executedStepCount }}"'
)"));
  RunResult result = run_ok(options_for({parent}));
  EXPECT_EQ(result.status, RunStatus::kSuccess) << result.failure_message;
  EXPECT_EQ(work_file("child"), "teal\ntest\n");
  EXPECT_EQ(stdout_of(find_step(result, "build", "Status")), "success/2");
  const StepResult* run_child = find_step(result, "build", "RunChild");
  ASSERT_NE(run_child, nullptr);
  EXPECT_EQ(run_child->outputs["executionId"], kExecutionId);
  EXPECT_EQ(run_child->outputs["failedStepCount"], 0);
  EXPECT_FALSE(run_child->outputs.contains("detailedOutput"));  // kept apart, not an output
  ASSERT_TRUE(run_child->detailed_output.is_array());
  ASSERT_EQ(run_child->detailed_output.size(), 1u);
  const Json& nested = run_child->detailed_output[0];
  EXPECT_EQ(nested["status"], "success");
  EXPECT_EQ(nested["documents"][0]["name"], "child");
  EXPECT_EQ(nested["documents"][0]["phases"].size(), 2u);
  EXPECT_EQ(nested["documents"][0]["phases"][0]["steps"][0]["outputs"], R"([{"stdout":""}])");
}

TEST_F(RunnerTest, AFailingNestedDocumentFailsTheStep) {
  write_doc("failing.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Breaks
        action: ExecuteBash
        inputs:
          commands: ['exit 2']
)"));
  std::string parent = write_doc("parent.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: RunChild
        action: ExecuteDocument
        inputs:
          document: failing.yaml
)"));
  RunResult result = run_ok(options_for({parent}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  const StepResult* step = find_step(result, "build", "RunChild");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->status, RunStatus::kFailed);
  EXPECT_THAT(step->failure_message, HasSubstr("failing.yaml failed!"));
  EXPECT_THAT(step->failure_message, HasSubstr("command exited with code 2"));
  EXPECT_EQ(step->outputs["status"], "failed");
  EXPECT_EQ(step->outputs["failedStepCount"], 1);
}

TEST_F(RunnerTest, ExecuteDocumentDetectsCycles) {
  write_doc("a.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: ToB
        action: ExecuteDocument
        inputs:
          document: b.yaml
)"));
  write_doc("b.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: BackToA
        action: ExecuteDocument
        inputs:
          document: ./a.yaml
)"));
  RunResult result = run_ok(options_for({(dir() / "a.yaml").string()}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  const StepResult* to_b = find_step(result, "build", "ToB");
  ASSERT_NE(to_b, nullptr);
  EXPECT_EQ(to_b->status, RunStatus::kFailed);
  // The inner step failed with the cycle; the outer one reports the nested failure.
  EXPECT_THAT(to_b->failure_message, HasSubstr("ExecuteDocument cycle"));
  std::string a = fs::weakly_canonical(dir() / "a.yaml").string();
  std::string b = fs::weakly_canonical(dir() / "b.yaml").string();
  EXPECT_THAT(to_b->failure_message, HasSubstr(a + " -> " + b + " -> " + a));
}

TEST_F(RunnerTest, ExecuteDocumentOfItselfIsACycle) {
  std::string self = write_doc("self.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Again
        action: ExecuteDocument
        inputs:
          document: self.yaml
)"));
  RunResult result = run_ok(options_for({self}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_THAT(find_step(result, "build", "Again")->failure_message,
              HasSubstr("ExecuteDocument cycle"));
}

TEST_F(RunnerTest, ExecuteDocumentNestsAtMostThreeLevels) {
  // level0 -> level1 -> level2 -> level3 is allowed (4 documents); level3 -> level4 is not.
  for (int i = 0; i < 4; ++i) {
    write_doc("level" + std::to_string(i) + ".yaml",
              fmt::format(R"(schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Down
        action: ExecuteDocument
        inputs:
          document: level{}.yaml
)",
                          i + 1));
  }
  write_doc("level4.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Leaf
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/leaf"']
)"));
  RunResult result = run_ok(options_for({(dir() / "level0.yaml").string()}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_THAT(find_step(result, "build", "Down")->failure_message,
              HasSubstr("nesting is limited to 3 levels"));
  EXPECT_FALSE(fs::exists(work_ / "leaf"));

  // Three levels down is fine.
  write_doc("level3.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Leaf
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/leaf"']
)"));
  RunOptions options = options_for({(dir() / "level0.yaml").string()});
  options.execution_id = "second";
  RunResult ok = run_ok(options);
  EXPECT_EQ(ok.status, RunStatus::kSuccess) << ok.failure_message;
  EXPECT_TRUE(fs::exists(work_ / "leaf"));
}

// ==== errors before any step, cancellation, exit codes =======================================

TEST_F(RunnerTest, InvalidDocumentsAreOneErrorListingEveryProblem) {
  std::string broken = write_doc("broken.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Bad
        action: ExecuteBsh
        inputs:
          commands: ['true']
)"));
  std::string missing = (dir() / "missing.yaml").string();
  Result<RunResult> result = run(options_for({broken, missing}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message, HasSubstr(broken + ":6:"));
  EXPECT_THAT(result.error().message, HasSubstr("ExecuteBsh"));
  EXPECT_THAT(result.error().message, HasSubstr(missing));
  EXPECT_FALSE(fs::exists(dir() / "logs"));
}

TEST_F(RunnerTest, ACancelFlagSetBeforeTheRunCancelsIt) {
  std::string path = write_doc("cancel.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Never
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/ran"']
  - name: validate
    steps:
      - name: NeverEither
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/ran-validate"']
)"));
  std::atomic<bool> cancel{true};
  Result<RunResult> result = run(options_for({path}), &cancel);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, RunStatus::kCancelled);
  EXPECT_EQ(exit_code_for(result->status), kExitCancelled);
  EXPECT_FALSE(fs::exists(work_ / "ran"));
  EXPECT_FALSE(fs::exists(work_ / "ran-validate"));
  EXPECT_EQ(find_phase(*result, "build")->status, RunStatus::kCancelled);
  EXPECT_EQ(find_phase(*result, "validate"), nullptr);
  EXPECT_EQ(count_steps(*result).executed, 0);
  EXPECT_THAT(result->failure_message, HasSubstr("cancelled"));
  EXPECT_FALSE(fs::exists(dir() / "logs" / ".kiln-toe-state" / "kiln-toe-state.json"));
}

TEST_F(RunnerTest, CancellingWhileAStepRunsKillsItAndStops) {
  std::string path = write_doc("cancel-during.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Long
        action: ExecuteBash
        inputs:
          commands: ['echo "{{ env:CANCEL_NOW }}"', 'sleep 30', 'touch "{DIR}/long-finished"']
      - name: Next
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/next-ran"']
)"));
  std::atomic<bool> cancel{false};
  // Resolving the step's inputs cancels: as if SIGINT arrived while the step starts.
  EnvLookup env = [&cancel](std::string_view) -> std::optional<std::string> {
    cancel = true;
    return "";
  };
  Runner runner(clock_, probe_, env, &cancel);
  Result<RunResult> result = runner.run(options_for({path}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, RunStatus::kCancelled);
  const StepResult* step = find_step(*result, "build", "Long");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->status, RunStatus::kCancelled);
  EXPECT_THAT(step->failure_message, HasSubstr("cancelled"));
  EXPECT_EQ(find_step(*result, "build", "Next"), nullptr);
  EXPECT_FALSE(fs::exists(work_ / "long-finished"));
  EXPECT_FALSE(fs::exists(work_ / "next-ran"));
}

TEST_F(RunnerTest, AConditionThatChoosesAbortFailsAndStops) {
  std::string path = write_doc("abort.yaml", doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Guard
        action: ExecuteBash
        onFailure: Continue
        if:
          fileExists: '{DIR}/absent'
          else: Abort
        inputs:
          commands: ['true']
      - name: After
        action: ExecuteBash
        inputs:
          commands: ['touch "{DIR}/after"']
)"));
  RunResult result = run_ok(options_for({path}));
  EXPECT_EQ(result.status, RunStatus::kFailed);
  const StepResult* guard = find_step(result, "build", "Guard");
  ASSERT_NE(guard, nullptr);
  EXPECT_EQ(guard->status, RunStatus::kFailed);
  EXPECT_THAT(guard->failure_message, HasSubstr("chose Abort"));
  EXPECT_FALSE(fs::exists(work_ / "after"));  // Abort stops even a Continue step's phase
}

TEST(ExitCodeTest, EveryStatusHasItsExitCode) {
  EXPECT_EQ(exit_code_for(RunStatus::kSuccess), 0);
  EXPECT_EQ(exit_code_for(RunStatus::kSuccessWithIgnoredFailure), 0);
  EXPECT_EQ(exit_code_for(RunStatus::kSkipped), 0);
  EXPECT_EQ(exit_code_for(RunStatus::kIgnoredFailure), 0);
  EXPECT_EQ(exit_code_for(RunStatus::kFailed), 1);
  EXPECT_EQ(exit_code_for(RunStatus::kRebootRequested), 194);
  EXPECT_EQ(exit_code_for(RunStatus::kCancelled), 130);
  EXPECT_EQ(kExitUsage, 2);
}

}  // namespace
}  // namespace kiln::toe
