#include "kiln/build/stage.hpp"

#include <gtest/gtest.h>

namespace kiln::build {
namespace {

TEST(DocumentPhases, InDocumentOrder) {
  std::string doc =
      "name: x\nschemaVersion: 1.0\nphases:\n  - name: test\n    steps: []\n  - name: build\n"
      "    steps: []\n";
  EXPECT_EQ(document_phases(doc), (std::vector<std::string>{"test", "build"}));
}

TEST(DocumentPhases, NotYamlGivesNone) {
  EXPECT_TRUE(document_phases("phases: [unclosed").empty());
  EXPECT_TRUE(document_phases("just text").empty());
}

TEST(TailLines, KeepsTheLastLines) {
  EXPECT_EQ(tail_lines("a\nb\nc\nd\n", 2), "c\nd");
  EXPECT_EQ(tail_lines("a\nb", 5), "a\nb");
  EXPECT_EQ(tail_lines("", 3), "");
  EXPECT_EQ(tail_lines("only\n\n", 1), "only");
}

TEST(ProgressLine, StepBeginsAndEnds) {
  Event event;
  std::string document;
  ASSERT_TRUE(
      parse_progress_line("2026-11-26 20:11:05.123 Step Install (ExecuteBash)", event, document));
  EXPECT_EQ(event.kind, Event::Kind::kStep);
  EXPECT_EQ(event.step, "Install");
  EXPECT_EQ(event.step_status, "");

  ASSERT_TRUE(parse_progress_line(
      "2026-11-26 20:11:06.000 Step Install: failed: command exited with code 1: E: no",
      event,
      document));
  EXPECT_EQ(event.step, "Install");
  EXPECT_EQ(event.step_status, "failed");
  EXPECT_EQ(event.text, "command exited with code 1: E: no");
}

TEST(ProgressLine, DocumentAndPhaseAreRemembered) {
  Event event;
  std::string document;
  EXPECT_FALSE(parse_progress_line(
      "2026-11-26 20:11:05.123 Document /.kiln/documents/01-a.yaml", event, document));
  EXPECT_EQ(document, "/.kiln/documents/01-a.yaml");
  EXPECT_FALSE(parse_progress_line("2026-11-26 20:11:05.123 Phase validate", event, document));
  EXPECT_EQ(event.phase, "validate");
}

TEST(ProgressLine, OutputIsNotProgress) {
  Event event;
  std::string document;
  EXPECT_FALSE(parse_progress_line("Step into the light", event, document));
  EXPECT_FALSE(parse_progress_line("", event, document));
  EXPECT_EQ(event.step, "");
}

Json detailed_with_failure() {
  return Json::parse(R"({
    "executionId": "x", "status": "failed",
    "documents": [
      {"name": "ok", "filePath": "/.kiln/documents/01-ok.yaml", "status": "success",
       "phases": [{"name": "build", "status": "success", "steps": [
         {"name": "A", "status": "success", "failureMessage": ""}]}]},
      {"name": "bad", "filePath": "/.kiln/documents/02-bad.yaml", "status": "failed",
       "phases": [{"name": "validate", "status": "failed", "steps": [
         {"name": "Ok", "status": "success"},
         {"name": "Check", "status": "failed",
          "failureMessage": "command exited with code 3: error: missing"}]}]}
    ]})");
}

TEST(FailureReason, NamesComponentPhaseStepAndMessage) {
  std::vector<std::pair<std::string, std::string>> components{
      {"/.kiln/documents/01-ok.yaml",
       "arn:aws:imagebuilder:local:000000000000:component/ok/1.0.0/1"},
      {"/.kiln/documents/02-bad.yaml",
       "arn:aws:imagebuilder:local:000000000000:component/bad/1.0.0/2"}};
  EXPECT_EQ(failure_reason(detailed_with_failure(), components),
            "Component arn:aws:imagebuilder:local:000000000000:component/bad/1.0.0/2 failed in "
            "phase validate, step Check: command exited with code 3: error: missing");
}

TEST(FailureReason, UnknownPathIsNamedAsIs) {
  std::string reason = failure_reason(detailed_with_failure(), {});
  EXPECT_NE(reason.find("Component /.kiln/documents/02-bad.yaml failed"), std::string::npos);
}

TEST(FailureReason, NothingFailedGivesNothing) {
  Json ok = Json::parse(R"({"documents": [{"filePath": "a", "status": "success", "phases": []}]})");
  EXPECT_EQ(failure_reason(ok, {}), "");
  EXPECT_EQ(failure_reason(Json::array(), {}), "");
}

}  // namespace
}  // namespace kiln::build
