// Valid documents and the model the parser builds from them. Invalid documents and their
// diagnostics: parser_errors_test.cpp and parser_reference_errors_test.cpp.

#include "kiln/document/parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kiln/document/parser_testing.hpp"

namespace kiln::document {
namespace {

using ::testing::HasSubstr;
using namespace parser_test;  // NOLINT(google-build-using-namespace): the shared test helpers

TEST(ParseDocument, FullDocumentModel) {
  Document d = parse_ok(doc(R"(
name: hello
description: says hello
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
      description: what to say
  - Target:
      type: string
constants:
  - Folder:
      type: string
      value: /tmp/hello
phases:
  - name: build
    steps:
      - name: Say
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ Greeting }} {{ Target }}' > '{{ Folder }}/out'
  - name: validate
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - test -s '{{ Folder }}/out'
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands: [ "true" ]
)"));
  EXPECT_EQ(d.path, "doc.yml");
  EXPECT_EQ(d.name, "hello");
  EXPECT_EQ(d.description, "says hello");
  EXPECT_EQ(d.schema_version, "1.0");
  EXPECT_THAT(d.text, HasSubstr("name: hello"));

  ASSERT_EQ(d.parameters.size(), 2u);
  EXPECT_EQ(d.parameters[0].name, "Greeting");
  EXPECT_EQ(d.parameters[0].type, "string");
  EXPECT_EQ(d.parameters[0].default_value, std::optional<std::string>("hello"));
  EXPECT_EQ(d.parameters[0].description, "what to say");
  EXPECT_EQ(d.parameters[0].mark.line, 5);
  EXPECT_EQ(d.parameters[0].mark.column, 5);
  EXPECT_EQ(d.parameters[1].name, "Target");
  EXPECT_FALSE(d.parameters[1].default_value.has_value());  // required

  ASSERT_EQ(d.constants.size(), 1u);
  EXPECT_EQ(d.constants[0].name, "Folder");
  EXPECT_EQ(d.constants[0].type, "string");
  EXPECT_EQ(d.constants[0].value, "/tmp/hello");

  ASSERT_EQ(d.phases.size(), 3u);
  EXPECT_EQ(d.phases[0].name, "build");
  EXPECT_EQ(d.phases[1].name, "validate");
  EXPECT_EQ(d.phases[2].name, "test");
  EXPECT_EQ(d.phases[0].mark.line, 16);
  ASSERT_EQ(d.phases[0].steps.size(), 1u);
  const Step& say = d.phases[0].steps[0];
  EXPECT_EQ(say.name, "Say");
  EXPECT_EQ(say.action, "ExecuteBash");
  ASSERT_NE(say.module, nullptr);
  EXPECT_EQ(say.module->name, "ExecuteBash");
  EXPECT_EQ(say.mark.line, 18);
  EXPECT_EQ(say.mark.column, 9);
  EXPECT_EQ(
      say.inputs,
      Json::parse(R"({"commands": ["echo '{{ Greeting }} {{ Target }}' > '{{ Folder }}/out'"]})"));
}

TEST(ParseDocument, PhasesKeepDocumentOrder) {
  Document d = parse_ok(doc(R"(
schemaVersion: 1.0
phases:
  - name: test
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
  - name: verify
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)"));
  ASSERT_EQ(d.phases.size(), 3u);
  EXPECT_EQ(d.phases[0].name, "test");
  EXPECT_EQ(d.phases[1].name, "verify");
  EXPECT_EQ(d.phases[2].name, "build");
}

TEST(ParseDocument, StepOptionDefaults) {
  Document d = parse_ok(with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs:
          commands: ["true"]
)"));
  const Step& step = d.phases[0].steps[0];
  EXPECT_EQ(step.timeout_seconds, 7200);
  EXPECT_EQ(step.timeout_seconds, kDefaultTimeoutSeconds);
  EXPECT_EQ(step.on_failure, OnFailure::kAbort);
  EXPECT_EQ(step.max_attempts, 1);
  EXPECT_FALSE(step.disable_logging);
  EXPECT_FALSE(step.condition.has_value());
  EXPECT_FALSE(step.loop.has_value());
  EXPECT_FALSE(step.assertion.has_value());
}

TEST(ParseDocument, StepOptionsAsWritten) {
  Document d = parse_ok(with_steps(R"(
      - name: A
        action: ExecuteBash
        timeoutSeconds: -1
        onFailure: Continue
        maxAttempts: 3
        disableLogging: true
        inputs:
          commands: ["true"]
      - name: B
        action: ExecuteBash
        timeoutSeconds: 30
        onFailure: Ignore
        maxAttempts: 1000
        inputs:
          commands: ["true"]
)"));
  const Step& a = d.phases[0].steps[0];
  EXPECT_EQ(a.timeout_seconds, kInfiniteTimeout);
  EXPECT_EQ(a.on_failure, OnFailure::kContinue);
  EXPECT_EQ(a.max_attempts, 3);
  EXPECT_TRUE(a.disable_logging);
  const Step& b = d.phases[0].steps[1];
  EXPECT_EQ(b.timeout_seconds, 30);
  EXPECT_EQ(b.on_failure, OnFailure::kIgnore);
  EXPECT_EQ(b.max_attempts, 1000);
}

TEST(ParseDocument, TypedInputs) {
  Document d = parse_ok(with_steps(R"(
      - name: Files
        action: CreateFile
        inputs:
          - path: /tmp/a
            content: hi
            overwrite: true
          - path: /tmp/b
            overwrite: 'False'
      - name: Wait
        action: Reboot
        inputs:
          delaySeconds: 60
)"));
  const Step& files = d.phases[0].steps[0];
  ASSERT_TRUE(files.inputs.is_array());
  ASSERT_EQ(files.inputs.size(), 2u);
  EXPECT_TRUE(files.inputs[0]["overwrite"].is_boolean());
  EXPECT_EQ(files.inputs[0]["overwrite"], true);
  EXPECT_EQ(files.inputs[1]["overwrite"], false);
  EXPECT_EQ(files.inputs[0]["content"], "hi");
  const Step& wait = d.phases[0].steps[1];
  EXPECT_TRUE(wait.inputs["delaySeconds"].is_number_integer());
  EXPECT_EQ(wait.inputs["delaySeconds"], 60);
}

TEST(ParseDocument, TypedInputHoldingAReferenceStaysAString) {
  Document d = parse_ok(doc(R"(
schemaVersion: 1.0
parameters:
  - Overwrite:
      type: string
      default: 'true'
  - Delay:
      type: string
      default: '5'
phases:
  - name: build
    steps:
      - name: Files
        action: CreateFile
        inputs:
          - path: /tmp/a
            overwrite: '{{ Overwrite }}'
      - name: Wait
        action: Reboot
        inputs:
          delaySeconds: "{{ Delay }}"
)"));
  const Json& overwrite = d.phases[0].steps[0].inputs[0]["overwrite"];
  EXPECT_TRUE(overwrite.is_string());
  EXPECT_EQ(overwrite, "{{ Overwrite }}");
  const Json& delay = d.phases[0].steps[1].inputs["delaySeconds"];
  EXPECT_TRUE(delay.is_string());
  EXPECT_EQ(delay, "{{ Delay }}");
}

TEST(ParseDocument, CommandsAsAStringBecomeOneCommand) {
  Document d = parse_ok(with_steps(R"(
      - name: One
        action: ExecuteBash
        inputs:
          commands: echo hello
      - name: Block
        action: ExecuteBash
        inputs:
          commands: |
            echo a
            echo b
)"));
  EXPECT_EQ(d.phases[0].steps[0].inputs, Json::parse(R"({"commands": ["echo hello"]})"));
  EXPECT_EQ(d.phases[0].steps[1].inputs, Json::parse(R"({"commands": ["echo a\necho b\n"]})"));
}

TEST(ParseDocument, ListShapedAndObjectShapedModules) {
  Document d = parse_ok(with_steps(R"(
      - name: Dirs
        action: CreateFolder
        inputs:
          - path: /tmp/a
          - path: /tmp/b
            permissions: '0755'
      - name: Bin
        action: ExecuteBinary
        inputs:
          path: /bin/echo
          arguments: [a, b]
)"));
  const Step& dirs = d.phases[0].steps[0];
  EXPECT_EQ(dirs.inputs,
            Json::parse(R"([{"path": "/tmp/a"}, {"path": "/tmp/b", "permissions": "0755"}])"));
  const Step& bin = d.phases[0].steps[1];
  EXPECT_EQ(bin.inputs, Json::parse(R"({"path": "/bin/echo", "arguments": ["a", "b"]})"));
}

TEST(ParseDocument, OptionalInputsMayBeLeftOut) {
  Document d = parse_ok(with_steps(R"(
      - name: Update
        action: UpdateOS
      - name: Restart
        action: Reboot
        inputs:
)"));
  EXPECT_EQ(d.phases[0].steps[0].inputs, Json::object());
  EXPECT_EQ(d.phases[0].steps[1].inputs, Json::object());
}

TEST(ParseDocument, ForLoop) {
  Document d = parse_ok(with_steps(R"(
      - name: Count
        action: ExecuteBash
        loop:
          name: counter
          for:
            start: 10
            end: 0
            updateBy: -5
        inputs:
          commands: ["echo {{ counter.index }} {{ counter.value }} {{ loop.index }}"]
)"));
  const Step& step = d.phases[0].steps[0];
  ASSERT_TRUE(step.loop.has_value());
  EXPECT_EQ(step.loop->kind, Loop::Kind::kFor);
  EXPECT_EQ(step.loop->name, "counter");
  EXPECT_EQ(step.loop->start, 10);
  EXPECT_EQ(step.loop->end, 0);
  EXPECT_EQ(step.loop->update_by, -5);
  EXPECT_EQ(step.loop->mark.line, 8);
}

TEST(ParseDocument, ForLoopWithEqualBoundsRunsOnce) {
  Document d = parse_ok(with_steps(R"(
      - name: Once
        action: ExecuteBash
        loop:
          for: {start: 3, end: 3, updateBy: -1}
        inputs:
          commands: ["echo {{ loop.value }}"]
)"));
  EXPECT_EQ(d.phases[0].steps[0].loop->name, "");
  EXPECT_EQ(d.phases[0].steps[0].loop->update_by, -1);
}

TEST(ParseDocument, ForEachList) {
  Document d = parse_ok(doc(R"(
schemaVersion: 1.0
parameters:
  - Extra:
      type: string
      default: c
phases:
  - name: build
    steps:
      - name: Each
        action: ExecuteBash
        loop:
          forEach:
            - a
            - "b"
            - '{{ Extra }}'
        inputs:
          commands: ["echo {{ loop.value }}"]
)"));
  const Loop& loop = *d.phases[0].steps[0].loop;
  EXPECT_EQ(loop.kind, Loop::Kind::kForEachList);
  EXPECT_EQ(loop.items, (std::vector<std::string>{"a", "b", "{{ Extra }}"}));
}

TEST(ParseDocument, ForEachListWithDelimiter) {
  Document d = parse_ok(with_steps(R"(
      - name: Default
        action: ExecuteBash
        loop:
          forEach:
            list: a,b,c
        inputs:
          commands: ["echo {{ loop.value }}"]
      - name: Semicolon
        action: ExecuteBash
        loop:
          name: parts
          forEach:
            list: 'x;y'
            delimiter: ';'
        inputs:
          commands: ["echo {{ parts.value }}"]
      - name: Space
        action: ExecuteBash
        loop:
          forEach: {list: 'x y', delimiter: ' '}
        inputs:
          commands: ["echo {{ loop.value }}"]
)"));
  const Loop& a = *d.phases[0].steps[0].loop;
  EXPECT_EQ(a.kind, Loop::Kind::kForEachDelimited);
  EXPECT_EQ(a.list, "a,b,c");
  EXPECT_EQ(a.delimiter, ',');
  const Loop& b = *d.phases[0].steps[1].loop;
  EXPECT_EQ(b.name, "parts");
  EXPECT_EQ(b.list, "x;y");
  EXPECT_EQ(b.delimiter, ';');
  EXPECT_EQ(d.phases[0].steps[2].loop->delimiter, ' ');
}

TEST(ParseDocument, EveryDelimiterIsAccepted) {
  for (const char* delimiter :
       {"'.'", "','", "';'", "':'", "' '", "'-'", "'_'", "\"\\t\"", "\"\\n\""}) {
    std::string text = with_steps(R"(
      - name: Each
        action: ExecuteBash
        loop:
          forEach:
            list: abc
            delimiter: DELIM
        inputs:
          commands: ["echo {{ loop.value }}"]
)");
    text.replace(text.find("DELIM"), 5, delimiter);
    parse_ok(text);
  }
}

TEST(ParseDocument, IfWithThenAndElse) {
  Document d = parse_ok(with_steps(R"(
      - name: Plain
        action: ExecuteBash
        if:
          binaryExists: dnf
        inputs:
          commands: ["dnf -y install unzip"]
      - name: Branches
        action: ExecuteBash
        if:
          and:
            - stringEquals: a
              value: A
            - not:
                fileExists: /nope
          then: Abort
          else: Execute
        inputs:
          commands: ["true"]
)"));
  const Step& plain = d.phases[0].steps[0];
  ASSERT_TRUE(plain.condition.has_value());
  EXPECT_EQ(plain.condition->expression.op, ConditionOp::kBinaryExists);
  EXPECT_EQ(plain.condition->expression.operand, "dnf");
  EXPECT_EQ(plain.condition->then_branch, Branch::kExecute);
  EXPECT_EQ(plain.condition->else_branch, Branch::kSkip);
  const Step& branches = d.phases[0].steps[1];
  ASSERT_TRUE(branches.condition.has_value());
  EXPECT_EQ(branches.condition->expression.op, ConditionOp::kAnd);
  EXPECT_EQ(branches.condition->expression.children.size(), 2u);
  EXPECT_EQ(branches.condition->then_branch, Branch::kAbort);
  EXPECT_EQ(branches.condition->else_branch, Branch::kExecute);
}

TEST(ParseDocument, AssertInputs) {
  Document d = parse_ok(with_steps(R"(
      - name: Version
        action: ExecuteBash
        inputs:
          commands: ["echo 2.1.1"]
      - name: Check
        action: Assert
        inputs:
          stringEquals: '2.1.1'
          value: '{{ build.Version.outputs.stdout }}'
)"));
  const Step& check = d.phases[0].steps[1];
  ASSERT_TRUE(check.assertion.has_value());
  EXPECT_EQ(check.assertion->op, ConditionOp::kStringEquals);
  EXPECT_EQ(check.assertion->operand, "2.1.1");
  EXPECT_EQ(check.assertion->value,
            std::optional<std::string>("{{ build.Version.outputs.stdout }}"));
  EXPECT_EQ(check.inputs, Json::parse(R"({"stringEquals": "2.1.1",
                            "value": "{{ build.Version.outputs.stdout }}"})"));
}

TEST(ParseDocument, WindowsOnlyModulesValidate) {
  Document d = parse_ok(with_steps(R"(
      - name: Ps
        action: ExecutePowerShell
        inputs:
          commands:
            - Write-Host hello
      - name: Msi
        action: InstallMSI
        inputs:
          path: C:\setup.msi
          properties:
            INSTALLDIR: C:\app
          allowUnsignedInstaller: true
      - name: Reg
        action: SetRegistry
        inputs:
          - path: HKLM:\SOFTWARE\Kiln
            name: Flag
            value: '1'
            type: DWORD
      - name: Remove
        action: UninstallMSI
        inputs:
          path: C:\setup.msi
)"));
  ASSERT_EQ(d.phases[0].steps.size(), 4u);
  EXPECT_EQ(d.phases[0].steps[0].module->platform, ModulePlatform::kWindowsOnly);
  EXPECT_EQ(d.phases[0].steps[1].inputs["properties"], Json::parse(R"({"INSTALLDIR": "C:\\app"})"));
  EXPECT_EQ(d.phases[0].steps[1].inputs["allowUnsignedInstaller"], true);
}

TEST(ParseDocument, ExecuteDocumentWithParameters) {
  Document d = parse_ok(with_steps(R"(
      - name: Nested
        action: ExecuteDocument
        timeoutSeconds: -1
        maxAttempts: 1
        inputs:
          document: other.yml
          phases: build,validate
          parameters:
            - name: Greeting
              value: hi
)"));
  const Step& step = d.phases[0].steps[0];
  EXPECT_EQ(step.timeout_seconds, kInfiniteTimeout);
  EXPECT_EQ(step.inputs["parameters"], Json::parse(R"([{"name": "Greeting", "value": "hi"}])"));
}

TEST(ParseDocument, ChainingToEarlierStepsAndPhases) {
  parse_ok(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Download
        action: WebDownload
        inputs:
          - source: https://example.com/a
            destination: /tmp/a
          - source: https://example.com/b
            destination: /tmp/b
      - name: Show
        action: ExecuteBash
        inputs:
          commands:
            - cat '{{ build.Download.inputs[1].destination }}'
            - echo '{{ build.Download.outputs.destination }}'
  - name: validate
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - test -n '{{ build.Show.outputs.stdout }}{{ build.Show.inputs.commands }}'
      - name: Doc
        action: ExecuteDocument
        inputs:
          document: x.yml
      - name: Status
        action: Assert
        inputs:
          stringEquals: success
          value: '{{ validate.Doc.outputs.status }}'
      - name: Again
        action: Assert
        inputs:
          stringEquals: '{{ validate.Status.inputs.value }}'
          value: x
)"));
}

TEST(ParseDocument, ExternalReferencesValidateAndFailOnlyAtRunTime) {
  parse_ok(with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ aws:ssm:/kiln/missing }}' '{{ aws:ssm:resolve(Anything) }}'
            - echo '{{ env:HOME }}' '{{ env:ProgramFiles(x86) }}'
            - echo '{{ aws:imds:instance-id }}' '{{ aws:imds:placement/region }}'
            - echo '{{ context:region }}' '{{ context:dateTime }}' '{{ context:step }}'
)"));
}

TEST(ParseDocument, LoopReferencesOutsideALoopAreNotErrors) {
  parse_ok(with_steps(R"(
      - name: NoLoop
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ loop.index }}' '{{ loop.value }}' '{{ anyName.value }}'
)"));
}

TEST(ParseDocument, ReferencesInConditionsAndLoopsAreChecked) {
  parse_ok(doc(R"(
schemaVersion: 1.0
constants:
  - Items:
      type: string
      value: a,b
phases:
  - name: build
    steps:
      - name: Each
        action: ExecuteBash
        if:
          stringIsEmpty: '{{ Items }}'
          then: Skip
          else: Execute
        loop:
          forEach:
            list: '{{ Items }}'
        inputs:
          commands: ["echo {{ loop.value }}"]
)"));
}

TEST(ParseDocument, ParseDocumentFile) {
  ParseResult missing = parse_document_file("/nonexistent/kiln/doc.yml");
  EXPECT_FALSE(missing.document.has_value());
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_EQ(missing.diagnostics[0].path, "/nonexistent/kiln/doc.yml");
  EXPECT_EQ(missing.diagnostics[0].mark.line, 0);
}

}  // namespace
}  // namespace kiln::document
