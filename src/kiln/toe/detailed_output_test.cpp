#include "kiln/toe/detailed_output.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::toe {
namespace {

using Keys = std::vector<std::string>;
using std::chrono::milliseconds;

Keys keys_of(const Json& object) {
  Keys keys;
  for (auto it = object.begin(); it != object.end(); ++it) {
    keys.push_back(it.key());
  }
  return keys;
}

SystemTime at(int64_t ms) {
  return SystemTime(milliseconds(ms));
}

StepResult make_step(std::string name, RunStatus status) {
  StepResult s;
  s.name = std::move(name);
  s.action = "ExecuteBash";
  s.status = status;
  s.timeout_seconds = 7200;
  s.on_failure = "Abort";
  s.max_attempts = 1;
  s.start_time = at(1'630'000'000'000);
  s.end_time = at(1'630'000'001'500);
  s.inputs = Json::array({Json{{"commands", Json::array({"echo \"Hello World!\""})}}});
  s.outputs = Json{{"stdout", "Hello World!"}};
  s.executed = status != RunStatus::kSkipped;
  return s;
}

// One document, one phase, the given steps.
RunResult make_run(std::vector<StepResult> steps, RunStatus status = RunStatus::kSuccess) {
  PhaseResult phase;
  phase.name = "build";
  phase.status = status;
  phase.start_time = at(1'630'000'000'000);
  phase.end_time = at(1'630'000'002'000);
  phase.steps = std::move(steps);
  DocumentResult doc;
  doc.name = "hello";
  doc.file_path = "main.yaml";
  doc.description = "says hello";
  doc.status = status;
  doc.start_time = at(1'630'000'000'000);
  doc.end_time = at(1'630'000'003'000);
  doc.phases.push_back(std::move(phase));
  RunResult run;
  run.execution_id = "12345a67-89bc-01de-2f34-abcd56789012";
  run.status = status;
  run.start_time = at(1'630'000'000'000);
  run.end_time = at(1'630'000'004'000);
  run.log_url = "/var/lib/amazon/toe/TOE_x";
  run.documents.push_back(std::move(doc));
  return run;
}

TEST(StatusTest, NamesAsAwstoeWritesThem) {
  EXPECT_EQ(status_name(RunStatus::kSuccess), "success");
  EXPECT_EQ(status_name(RunStatus::kFailed), "failed");
  EXPECT_EQ(status_name(RunStatus::kSkipped), "skipped");
  EXPECT_EQ(status_name(RunStatus::kIgnoredFailure), "IgnoredFailure");
  EXPECT_EQ(status_name(RunStatus::kSuccessWithIgnoredFailure), "SuccessWithIgnoredFailure");
  EXPECT_EQ(status_name(RunStatus::kRebootRequested), "rebootRequested");
  EXPECT_EQ(status_name(RunStatus::kCancelled), "cancelled");
}

TEST(StatusTest, ParseInvertsTheNames) {
  for (RunStatus s : {RunStatus::kSuccess,
                      RunStatus::kFailed,
                      RunStatus::kSkipped,
                      RunStatus::kIgnoredFailure,
                      RunStatus::kSuccessWithIgnoredFailure,
                      RunStatus::kRebootRequested,
                      RunStatus::kCancelled}) {
    EXPECT_EQ(parse_status(status_name(s)), s) << status_name(s);
  }
  EXPECT_EQ(parse_status("Success"), std::nullopt);  // exact, as written
  EXPECT_EQ(parse_status(""), std::nullopt);
}

TEST(StatusTest, OnlyFailedAndCancelledAreFailures) {
  EXPECT_TRUE(is_failure(RunStatus::kFailed));
  EXPECT_TRUE(is_failure(RunStatus::kCancelled));
  EXPECT_FALSE(is_failure(RunStatus::kSuccess));
  EXPECT_FALSE(is_failure(RunStatus::kSkipped));
  EXPECT_FALSE(is_failure(RunStatus::kIgnoredFailure));
  EXPECT_FALSE(is_failure(RunStatus::kSuccessWithIgnoredFailure));
  EXPECT_FALSE(is_failure(RunStatus::kRebootRequested));
}

TEST(CombineStatusesTest, NothingOrOnlySuccessIsSuccess) {
  EXPECT_EQ(combine_statuses({}), RunStatus::kSuccess);
  EXPECT_EQ(combine_statuses({RunStatus::kSuccess, RunStatus::kSuccess}), RunStatus::kSuccess);
}

TEST(CombineStatusesTest, SkippedStepsCountAsSuccess) {
  EXPECT_EQ(combine_statuses({RunStatus::kSkipped}), RunStatus::kSuccess);
  EXPECT_EQ(combine_statuses({RunStatus::kSuccess, RunStatus::kSkipped}), RunStatus::kSuccess);
}

TEST(CombineStatusesTest, IgnoredFailuresMakeSuccessWithIgnoredFailure) {
  EXPECT_EQ(combine_statuses({RunStatus::kSuccess, RunStatus::kIgnoredFailure}),
            RunStatus::kSuccessWithIgnoredFailure);
  EXPECT_EQ(combine_statuses({RunStatus::kSuccessWithIgnoredFailure, RunStatus::kSuccess}),
            RunStatus::kSuccessWithIgnoredFailure);
}

TEST(CombineStatusesTest, PrecedenceCancelledFailedRebootIgnored) {
  EXPECT_EQ(combine_statuses({RunStatus::kIgnoredFailure, RunStatus::kRebootRequested}),
            RunStatus::kRebootRequested);
  EXPECT_EQ(combine_statuses({RunStatus::kRebootRequested, RunStatus::kFailed}),
            RunStatus::kFailed);
  EXPECT_EQ(combine_statuses({RunStatus::kFailed, RunStatus::kCancelled, RunStatus::kSuccess}),
            RunStatus::kCancelled);
  EXPECT_EQ(combine_statuses({RunStatus::kSuccess, RunStatus::kFailed, RunStatus::kSuccess}),
            RunStatus::kFailed);
}

TEST(CountStepsTest, CountsExecutedFailedAndIgnoredSteps) {
  StepResult skipped = make_step("skipped", RunStatus::kSkipped);
  RunResult run = make_run({make_step("ok", RunStatus::kSuccess),
                            make_step("failed", RunStatus::kFailed),
                            make_step("ignored", RunStatus::kIgnoredFailure),
                            make_step("cancelled", RunStatus::kCancelled),
                            skipped});
  PhaseResult second;
  second.name = "test";
  second.steps.push_back(make_step("ok2", RunStatus::kSuccess));
  run.documents[0].phases.push_back(second);
  StepCounts counts = count_steps(run);
  EXPECT_EQ(counts.executed, 5);  // every step but the skipped one
  EXPECT_EQ(counts.failed, 2);    // failed and cancelled
  EXPECT_EQ(counts.ignored_failed, 1);
}

TEST(CountStepsTest, AnEmptyRunHasNoSteps) {
  StepCounts counts = count_steps(RunResult{});
  EXPECT_EQ(counts.executed, 0);
  EXPECT_EQ(counts.failed, 0);
  EXPECT_EQ(counts.ignored_failed, 0);
}

TEST(DetailedOutputTest, RunKeysInTheDocumentedOrder) {
  Json out = detailed_output(make_run({make_step("ExecuteBashStep", RunStatus::kSuccess)}));
  EXPECT_EQ(keys_of(out),
            (Keys{"executionId", "status", "startTime", "endTime", "failureMessage", "documents"}));
  EXPECT_EQ(out["executionId"], "12345a67-89bc-01de-2f34-abcd56789012");
  EXPECT_EQ(out["status"], "success");
  EXPECT_EQ(out["failureMessage"], "");
  EXPECT_EQ(out["startTime"], format_rfc3339_local(at(1'630'000'000'000)));
  EXPECT_EQ(out["endTime"], format_rfc3339_local(at(1'630'000'004'000)));
  EXPECT_FALSE(out.contains("logUrl"));
}

TEST(DetailedOutputTest, DocumentKeysInTheDocumentedOrder) {
  Json out = detailed_output(make_run({make_step("ExecuteBashStep", RunStatus::kSuccess)}));
  ASSERT_EQ(out["documents"].size(), 1u);
  const Json& doc = out["documents"][0];
  EXPECT_EQ(keys_of(doc),
            (Keys{"name",
                  "filePath",
                  "status",
                  "description",
                  "startTime",
                  "endTime",
                  "failureMessage",
                  "phases"}));
  EXPECT_EQ(doc["name"], "hello");
  EXPECT_EQ(doc["filePath"], "main.yaml");
  EXPECT_EQ(doc["description"], "says hello");
  EXPECT_EQ(doc["endTime"], format_rfc3339_local(at(1'630'000'003'000)));
}

TEST(DetailedOutputTest, PhaseKeysInTheDocumentedOrder) {
  Json out = detailed_output(make_run({make_step("ExecuteBashStep", RunStatus::kSuccess)}));
  const Json& phase = out["documents"][0]["phases"][0];
  EXPECT_EQ(keys_of(phase),
            (Keys{"name", "status", "startTime", "endTime", "failureMessage", "steps"}));
  EXPECT_EQ(phase["name"], "build");
  EXPECT_EQ(phase["status"], "success");
}

TEST(DetailedOutputTest, StepKeysInTheDocumentedOrder) {
  Json out = detailed_output(make_run({make_step("ExecuteBashStep", RunStatus::kSuccess)}));
  const Json& step = out["documents"][0]["phases"][0]["steps"][0];
  EXPECT_EQ(keys_of(step),
            (Keys{"name",
                  "status",
                  "failureMessage",
                  "timeoutSeconds",
                  "onFailure",
                  "maxAttempts",
                  "action",
                  "startTime",
                  "endTime",
                  "inputs",
                  "outputs",
                  "loop",
                  "detailedOutput"}));
  EXPECT_EQ(step["name"], "ExecuteBashStep");
  EXPECT_EQ(step["status"], "success");
  EXPECT_EQ(step["timeoutSeconds"], 7200);
  EXPECT_EQ(step["onFailure"], "Abort");
  EXPECT_EQ(step["maxAttempts"], 1);
  EXPECT_EQ(step["action"], "ExecuteBash");
  EXPECT_EQ(step["startTime"], format_rfc3339_local(at(1'630'000'000'000)));
  EXPECT_TRUE(step["loop"].is_null());
  EXPECT_TRUE(step["detailedOutput"].is_null());
}

TEST(DetailedOutputTest, InputsAndOutputsAreJsonEncodedStringsOfLists) {
  Json out = detailed_output(make_run({make_step("ExecuteBashStep", RunStatus::kSuccess)}));
  const Json& step = out["documents"][0]["phases"][0]["steps"][0];
  ASSERT_TRUE(step["inputs"].is_string());
  ASSERT_TRUE(step["outputs"].is_string());
  // Exactly AWS's example.
  EXPECT_EQ(step["inputs"], "[{\"commands\":[\"echo \\\"Hello World!\\\"\"]}]");
  EXPECT_EQ(step["outputs"], "[{\"stdout\":\"Hello World!\"}]");
  Json outputs = Json::parse(step["outputs"].get<std::string>());
  ASSERT_TRUE(outputs.is_array());
  EXPECT_EQ(outputs[0]["stdout"], "Hello World!");
}

TEST(DetailedOutputTest, AStepWithoutOutputsWritesAListOfOneEmptyObject) {
  StepResult step = make_step("s", RunStatus::kSuccess);
  step.outputs = Json::object();
  Json out = detailed_output(make_run({step}));
  EXPECT_EQ(out["documents"][0]["phases"][0]["steps"][0]["outputs"], "[{}]");
}

TEST(DetailedOutputTest, RedactedStepsHideEveryStringValue) {
  StepResult step = make_step("secret", RunStatus::kFailed);
  step.redact = true;
  step.inputs = Json::array({Json{{"commands", Json::array({"echo hunter2"})}, {"count", 3}}});
  step.outputs = Json{{"stdout", "hunter2"}, {"nested", Json{{"x", "hunter2"}}}};
  step.failure_message = "command exited with code 1";
  Json out = detailed_output(make_run({step}, RunStatus::kFailed));
  const Json& written = out["documents"][0]["phases"][0]["steps"][0];
  EXPECT_EQ(written["inputs"], R"([{"commands":["***"],"count":3}])");
  EXPECT_EQ(written["outputs"], R"([{"stdout":"***","nested":{"x":"***"}}])");
  EXPECT_EQ(written["name"], "secret");
  EXPECT_EQ(written["failureMessage"], "command exited with code 1");
  EXPECT_EQ(out.dump().find("hunter2"), std::string::npos);
}

TEST(DetailedOutputTest, LoopAndNestedOutputAreWrittenAsValues) {
  StepResult step = make_step("looped", RunStatus::kSuccess);
  step.loop = Json{{"name", "l"}, {"iterations", 2}, {"failedIterations", Json::array()}};
  step.detailed_output = Json::array({Json{{"executionId", "nested"}}});
  Json out = detailed_output(make_run({step}));
  const Json& written = out["documents"][0]["phases"][0]["steps"][0];
  EXPECT_EQ(written["loop"], step.loop);
  EXPECT_EQ(written["detailedOutput"], step.detailed_output);
}

TEST(DetailedOutputTest, EmptyRunHasAnEmptyDocumentList) {
  Json out = detailed_output(RunResult{});
  EXPECT_TRUE(out["documents"].is_array());
  EXPECT_TRUE(out["documents"].empty());
}

TEST(SummaryTest, KeysInTheDocumentedOrderWithCounts) {
  RunResult run = make_run({make_step("a", RunStatus::kSuccess),
                            make_step("b", RunStatus::kIgnoredFailure),
                            make_step("c", RunStatus::kFailed)},
                           RunStatus::kFailed);
  run.failure_message = "Document main.yaml failed!";
  Json s = summary(run);
  EXPECT_EQ(keys_of(s),
            (Keys{"executionId",
                  "status",
                  "failedStepCount",
                  "executedStepCount",
                  "ignoredFailedStepCount",
                  "failureMessage",
                  "logUrl"}));
  EXPECT_EQ(s["executionId"], run.execution_id);
  EXPECT_EQ(s["status"], "failed");
  EXPECT_EQ(s["failedStepCount"], 1);
  EXPECT_EQ(s["executedStepCount"], 3);
  EXPECT_EQ(s["ignoredFailedStepCount"], 1);
  EXPECT_EQ(s["failureMessage"], "Document main.yaml failed!");
  EXPECT_EQ(s["logUrl"], "/var/lib/amazon/toe/TOE_x");
}

TEST(StateJsonTest, RoundTripKeepsEveryField) {
  StepResult full = make_step("full", RunStatus::kIgnoredFailure);
  full.failure_message = "command exited with code 3";
  full.timeout_seconds = -1;
  full.on_failure = "Ignore";
  full.max_attempts = 4;
  full.loop = Json{{"name", ""}, {"iterations", 3}, {"failedIterations", Json::array({1})}};
  full.detailed_output = Json::array({Json{{"executionId", "inner"}}});
  full.redact = true;
  full.outputs = Json{{"stdout", "secret stays in the state"}};
  full.exit_code = 3;
  full.stderr_tail = "oops";
  StepResult no_exit = make_step("no-exit", RunStatus::kSkipped);
  RunResult run = make_run({full, no_exit}, RunStatus::kRebootRequested);
  run.failure_message = "run message";
  run.documents[0].failure_message = "doc message";
  run.documents[0].phases[0].failure_message = "phase message";

  RunResult back = run_from_state_json(to_state_json(run));
  EXPECT_EQ(back.execution_id, run.execution_id);
  EXPECT_EQ(back.status, RunStatus::kRebootRequested);
  EXPECT_EQ(back.failure_message, "run message");
  EXPECT_EQ(back.start_time, run.start_time);
  EXPECT_EQ(back.end_time, run.end_time);
  EXPECT_EQ(back.log_url, run.log_url);
  ASSERT_EQ(back.documents.size(), 1u);
  const DocumentResult& d = back.documents[0];
  EXPECT_EQ(d.name, "hello");
  EXPECT_EQ(d.file_path, "main.yaml");
  EXPECT_EQ(d.description, "says hello");
  EXPECT_EQ(d.status, RunStatus::kRebootRequested);
  EXPECT_EQ(d.failure_message, "doc message");
  EXPECT_EQ(d.start_time, run.documents[0].start_time);
  EXPECT_EQ(d.end_time, run.documents[0].end_time);
  ASSERT_EQ(d.phases.size(), 1u);
  const PhaseResult& p = d.phases[0];
  EXPECT_EQ(p.name, "build");
  EXPECT_EQ(p.failure_message, "phase message");
  EXPECT_EQ(p.start_time, run.documents[0].phases[0].start_time);
  EXPECT_EQ(p.end_time, run.documents[0].phases[0].end_time);
  ASSERT_EQ(p.steps.size(), 2u);
  const StepResult& s = p.steps[0];
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.action, "ExecuteBash");
  EXPECT_EQ(s.status, RunStatus::kIgnoredFailure);
  EXPECT_EQ(s.failure_message, full.failure_message);
  EXPECT_EQ(s.timeout_seconds, -1);
  EXPECT_EQ(s.on_failure, "Ignore");
  EXPECT_EQ(s.max_attempts, 4);
  EXPECT_EQ(s.start_time, full.start_time);
  EXPECT_EQ(s.end_time, full.end_time);
  EXPECT_EQ(s.inputs, full.inputs);
  EXPECT_EQ(s.outputs, full.outputs);  // unredacted: the resumed run chains from it
  EXPECT_EQ(s.loop, full.loop);
  EXPECT_EQ(s.detailed_output, full.detailed_output);
  EXPECT_TRUE(s.redact);
  EXPECT_TRUE(s.executed);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.stderr_tail, "oops");
  EXPECT_EQ(p.steps[1].exit_code, std::nullopt);
  EXPECT_FALSE(p.steps[1].executed);
  EXPECT_EQ(p.steps[1].status, RunStatus::kSkipped);
  // And the state form itself is stable.
  EXPECT_EQ(to_state_json(back), to_state_json(run));
}

TEST(StateJsonTest, MissingFieldsGetDefaults) {
  RunResult run = run_from_state_json(Json::object());
  EXPECT_EQ(run.execution_id, "");
  EXPECT_EQ(run.status, RunStatus::kFailed);  // an unknown status is never taken for success
  EXPECT_TRUE(run.documents.empty());
}

}  // namespace
}  // namespace kiln::toe
