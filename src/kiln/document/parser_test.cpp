#include "kiln/document/parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::document {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Documents are written as raw strings that start on the line after R"(, so the first line of
// the string is line 1 of the document.
std::string doc(const char* text) {
  std::string s = text;
  if (!s.empty() && s.front() == '\n') {
    s.erase(0, 1);
  }
  return s;
}

std::vector<std::string> formatted(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) {
    out.push_back(format_diagnostic(d));
  }
  return out;
}

// Parses a document that must be valid.
Document parse_ok(const std::string& text) {
  ParseResult result = parse_document(text, "doc.yml");
  EXPECT_THAT(formatted(result.diagnostics), IsEmpty()) << text;
  EXPECT_TRUE(result.document.has_value());
  return result.document.value_or(Document{});
}

// Parses a document that must be invalid; returns "doc.yml:LINE:COLUMN: message" for each
// problem, in the order reported.
std::vector<std::string> errors(const std::string& text) {
  ParseResult result = parse_document(text, "doc.yml");
  EXPECT_FALSE(result.document.has_value()) << text;
  EXPECT_FALSE(result.diagnostics.empty()) << text;
  for (const Diagnostic& d : result.diagnostics) {
    EXPECT_EQ(d.path, "doc.yml");
  }
  return formatted(result.diagnostics);
}

// A one-phase document around `steps`, which are indented for `steps:` and start on line 5.
std::string with_steps(const char* steps) {
  return "schemaVersion: 1.0\n"
         "phases:\n"
         "  - name: build\n"
         "    steps:\n" +
         doc(steps);
}

// ==== valid documents ========================================================================

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

// ==== invalid documents ======================================================================

TEST(ParseErrors, YamlSyntaxError) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
name: a: b
phases: []
)")),
              ElementsAre("doc.yml:2:8: illegal map value"));
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
   steps: []
)")),
              ElementsAre("doc.yml:4:4: end of sequence not found"));
  // An unclosed flow list is found where the text ends.
  EXPECT_THAT(errors("schemaVersion: 1.0\nphases: [\n"),
              ElementsAre("doc.yml:3:1: end of sequence flow not found"));
}

TEST(ParseErrors, NotAMap) {
  EXPECT_THAT(errors("- a\n- b\n"),
              ElementsAre("doc.yml:1:1: a component document must be a map with schemaVersion "
                          "and phases, not a list"));
  EXPECT_THAT(errors(""), ElementsAre(HasSubstr("must be a map with schemaVersion")));
}

TEST(ParseErrors, MissingSchemaVersion) {
  EXPECT_THAT(errors(doc(R"(
name: x
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:1:1: missing required field 'schemaVersion' (use "
                          "schemaVersion: 1.0)"));
}

TEST(ParseErrors, WrongSchemaVersion) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 2.0
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:1:16: unsupported schemaVersion '2.0': the only version is "
                          "1.0"));
}

TEST(ParseErrors, MissingPhases) {
  EXPECT_THAT(errors("schemaVersion: 1.0\nname: x\n"),
              ElementsAre("doc.yml:1:1: missing required field 'phases'"));
}

TEST(ParseErrors, EmptyPhases) {
  EXPECT_THAT(errors("schemaVersion: 1.0\nphases: []\n"),
              ElementsAre(HasSubstr("doc.yml:2:9: phases must be a non-empty list of phases")));
  EXPECT_THAT(errors("schemaVersion: 1.0\nphases: build\n"),
              ElementsAre(HasSubstr("doc.yml:2:9: phases must be a non-empty list of phases (- "
                                    "name: build ...), not a string")));
}

TEST(ParseErrors, UnknownTopLevelFieldSuggestsTheRightOne) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
descripton: typo
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:2:1: unknown field 'descripton' in the document (did you mean "
                          "'description'?)"));
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
phase:
  - name: build
)")),
              ElementsAre("doc.yml:1:1: missing required field 'phases'",
                          "doc.yml:2:1: unknown field 'phase' in the document (did you mean "
                          "'phases'?)"));
}

TEST(ParseErrors, UnknownActionModuleSuggestsTheRightOne) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBsh
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:6:17: unknown action module 'ExecuteBsh'"
                          " (did you mean 'ExecuteBash'?)"));
}

TEST(ParseErrors, MisspelledInputFieldSuggestsTheRightOne) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs:
          comands: ["true"]
)")),
              ElementsAre("doc.yml:8:11: unknown field 'comands' in the inputs of ExecuteBash (did "
                          "you mean 'commands'?)",
                          "doc.yml:8:11: ExecuteBash input is missing its required field "
                          "'commands'"));
  EXPECT_THAT(
      errors(with_steps(R"(
      - name: Dirs
        action: CreateFolder
        inputs:
          - path: /a
            overwrite: true
            recursive: true
)")),
      ElementsAre("doc.yml:10:13: unknown field 'recursive' in the inputs of CreateFolder"));
}

TEST(ParseErrors, UnknownStepFieldSuggestsTheRightOne) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBash
        onfailure: Continue
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:7:9: unknown field 'onfailure' in a step (did you mean "
                          "'onFailure'?)"));
}

TEST(ParseErrors, InputShapeMapVersusList) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs:
          - commands: ["true"]
      - name: Dirs
        action: CreateFolder
        inputs:
          path: /tmp/a
)")),
              ElementsAre("doc.yml:8:11: ExecuteBash takes a single map of inputs, not a list",
                          "doc.yml:12:11: CreateFolder takes a list of inputs ('- path: ...'), "
                          "not a map"));
}

TEST(ParseErrors, WrongInputTypes) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Files
        action: CreateFile
        inputs:
          - path: /tmp/a
            overwrite: maybe
          - path: [a, b]
      - name: Wait
        action: Reboot
        inputs:
          delaySeconds: soon
      - name: Run
        action: ExecuteBash
        inputs:
          commands: {a: b}
      - name: Bin
        action: ExecuteBinary
        inputs:
          path: /bin/true
          arguments: -v
)")),
              ElementsAre("doc.yml:9:24: 'overwrite' must be true or false, not 'maybe'",
                          "doc.yml:10:19: 'path' must be a string, not a list",
                          "doc.yml:14:25: 'delaySeconds' must be a whole number, not 'soon'",
                          "doc.yml:18:21: 'commands' must be a list of strings, not a map",
                          "doc.yml:23:22: 'arguments' must be a list of strings, not a string"));
}

TEST(ParseErrors, MissingRequiredInput) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Dirs
        action: CreateFolder
        inputs:
          - path: /tmp/a
          - owner: root
      - name: Copy
        action: CopyFile
        inputs:
          - source: /a
      - name: Bin
        action: ExecuteBinary
        inputs:
          arguments: [x]
      - name: NoInputs
        action: ExecuteBash
)")),
              ElementsAre("doc.yml:9:13: CreateFolder input 1 is missing its required field 'path'",
                          "doc.yml:13:13: CopyFile input 0 is missing its required field "
                          "'destination'",
                          "doc.yml:17:11: ExecuteBinary input is missing its required field 'path'",
                          "doc.yml:18:9: step 'NoInputs' is missing its required 'inputs'"));
}

TEST(ParseErrors, MissingStepNameOrAction) {
  EXPECT_THAT(errors(with_steps(R"(
      - action: ExecuteBash
        inputs:
          commands: ["true"]
      - name: NoAction
        inputs:
          commands: ["true"]
      - name: a.b
        action: ExecuteBash
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:5:9: a step in phase 'build' needs a name",
                          "doc.yml:8:9: step 'NoAction' is missing its required 'action'",
                          "doc.yml:11:15: step name 'a.b' must not contain '.' (it would break "
                          "chaining)"));
}

TEST(ParseErrors, DuplicatePhase) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
  - name: build
    steps: [{name: B, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:5:11: duplicate phase name 'build'"));
}

TEST(ParseErrors, DuplicateStep) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: A
        action: ExecuteBash
        inputs:
          commands: ["true"]
      - name: A
        action: ExecuteBash
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:9:15: duplicate step name 'A' in phase 'build'"));
}

TEST(ParseErrors, SameStepNameInTwoPhasesIsFine) {
  parse_ok(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
  - name: test
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)"));
}

TEST(ParseErrors, UndeclaredVariablePointsAtTheReference) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
parameters:
  - Name:
      type: string
phases:
  - name: build
    steps:
      - name: Run
        action: ExecuteBash
        inputs:
          commands:
            - "echo {{ Nme }} and {{Name}}"
            - 'x{{ Other }}'
            - plain {{ Third }}
)")),
              ElementsAre("doc.yml:12:21: '{{ Nme }}' refers to no declared parameter or constant "
                          "(did you mean 'Name'?)",
                          "doc.yml:13:17: '{{ Other }}' refers to no declared parameter or "
                          "constant",
                          "doc.yml:14:21: '{{ Third }}' refers to no declared parameter or "
                          "constant"));
}

TEST(ParseErrors, UndeclaredVariableInAFlowListPointsAtEachReference) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs: {commands: ["{{ A1x }}", '-{{ B1x }}']}
)")),
              ElementsAre("doc.yml:7:30: '{{ A1x }}' refers to no declared parameter or constant",
                          "doc.yml:7:44: '{{ B1x }}' refers to no declared parameter or "
                          "constant"));
}

TEST(ParseErrors, ReferenceNotFoundAsWrittenPointsAtTheString) {
  // Escapes, folded and multi-line scalars move the reference away from where the text says;
  // the diagnostic then points at the string (or at a condition's operator).
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Run
        action: ExecuteBash
        if:
          stringEquals: a
          value: 'x {{ Nope1 }}'
        inputs:
          commands:
            - "echo\t{{ Nope2 }}"
            - >-
              {{ Nope3 }}
            - "a long line
               {{ Nope4 }}"
)")),
              ElementsAre(HasSubstr("doc.yml:8:11: '{{ Nope1 }}' refers to no declared"),
                          HasSubstr("doc.yml:12:15: '{{ Nope2 }}' refers to no declared"),
                          HasSubstr("doc.yml:13:15: '{{ Nope3 }}' refers to no declared"),
                          HasSubstr("doc.yml:15:15: '{{ Nope4 }}' refers to no declared")));
}

TEST(ParseErrors, UndeclaredVariableInEveryPlace) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBash
        if:
          fileExists: '{{ InIf }}'
        loop:
          forEach:
            - '{{ InLoop }}'
        inputs:
          commands: ["true"]
      - name: Nested
        action: ExecuteDocument
        inputs:
          document: '{{ InDoc }}'
          parameters:
            - name: X
              value: '{{ InParam }}'
      - name: Check
        action: Assert
        inputs:
          stringIsEmpty: '{{ InAssert }}'
)")),
              ElementsAre(HasSubstr("doc.yml:8:11: '{{ InIf }}' refers to no declared"),
                          HasSubstr("doc.yml:11:16: '{{ InLoop }}' refers to no declared"),
                          HasSubstr("doc.yml:17:22: '{{ InDoc }}' refers to no declared"),
                          HasSubstr("doc.yml:20:23: '{{ InParam }}' refers to no declared"),
                          HasSubstr("doc.yml:24:11: '{{ InAssert }}' refers to no declared")));
}

TEST(ParseErrors, ChainToALaterStepItselfOrALaterPhase) {
  EXPECT_THAT(
      errors(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: A
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ build.B.outputs.stdout }}'
            - echo '{{ build.A.outputs.stdout }}'
            - echo '{{ test.C.outputs.stdout }}'
            - echo '{{ build.Nope.inputs.commands }}'
      - name: B
        action: ExecuteBash
        inputs:
          commands: ["true"]
  - name: test
    steps:
      - name: C
        action: ExecuteBash
        inputs:
          commands: ["true"]
)")),
      ElementsAre("doc.yml:9:21: '{{ build.B.outputs.stdout }}' refers to step 'B' of phase "
                  "'build', which does not come before this step in this document",
                  "doc.yml:10:21: '{{ build.A.outputs.stdout }}' refers to step 'A' of phase "
                  "'build', which does not come before this step in this document",
                  "doc.yml:11:21: '{{ test.C.outputs.stdout }}' refers to step 'C' of phase "
                  "'test', which does not come before this step in this document",
                  "doc.yml:12:21: '{{ build.Nope.inputs.commands }}' refers to step 'Nope' of "
                  "phase 'build', which does not come before this step in this document"));
}

TEST(ParseErrors, OutputTheModuleDoesNotHave) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs:
          commands: ["true"]
      - name: Dirs
        action: CreateFolder
        inputs:
          - path: /a
      - name: Use
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ build.Run.outputs.stderr }}'
            - echo '{{ build.Dirs.outputs.path }}'
)")),
              ElementsAre("doc.yml:17:21: '{{ build.Run.outputs.stderr }}': ExecuteBash has no "
                          "output 'stderr' (it has: stdout)",
                          "doc.yml:18:21: '{{ build.Dirs.outputs.path }}': CreateFolder has no "
                          "output 'path' (it has no outputs)"));
}

TEST(ParseErrors, ChainedInputOutOfRangeOrUnknown) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Dirs
        action: CreateFolder
        inputs:
          - path: /a
          - path: /b
      - name: Use
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ build.Dirs.inputs[1].path }}'
            - echo '{{ build.Dirs.inputs[2].path }}'
            - echo '{{ build.Dirs.inputs[0].nope }}'
            - echo '{{ build.Use.inputs.commands }}'
)")),
              ElementsAre("doc.yml:15:21: '{{ build.Dirs.inputs[2].path }}': step 'Dirs' has only "
                          "2 input(s)",
                          "doc.yml:16:21: '{{ build.Dirs.inputs[0].nope }}': CreateFolder has no "
                          "input 'nope'",
                          HasSubstr("doc.yml:17:21: '{{ build.Use.inputs.commands }}' refers to "
                                    "step 'Use'")));
}

TEST(ParseErrors, BadContextKeyImdsCredentialsAndMalformedReferences) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Use
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ context:regoin }}'
            - echo '{{ aws:imds:iam/security-credentials/role }}'
            - echo '{{ aws:imds:identity-credentials/ec2/info }}'
            - "echo '{{ a.b.c }}' '{{ x.y.inputs[z].f }}' '{{ env: }}'"
)")),
              ElementsAre("doc.yml:9:21: unknown context key 'regoin' in '{{ context:regoin }}'",
                          "doc.yml:10:21: '{{ aws:imds:iam/security-credentials/role }}': "
                          "instance credentials cannot be read",
                          "doc.yml:11:21: '{{ aws:imds:identity-credentials/ec2/info }}': "
                          "instance credentials cannot be read",
                          "doc.yml:12:22: malformed reference '{{ a.b.c }}'",
                          "doc.yml:12:36: malformed reference '{{ x.y.inputs[z].f }}'",
                          "doc.yml:12:60: malformed reference '{{ env: }}'"));
}

TEST(ParseErrors, LoopReferenceToAnotherLoopsName) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Each
        action: ExecuteBash
        loop:
          name: outer
          forEach: [a]
        inputs:
          commands: ["echo {{ inner.value }} {{ outer.value }} {{ loop.index }}"]
)")),
              ElementsAre("doc.yml:11:28: '{{ inner.value }}' refers to loop 'inner', but this "
                          "step's loop is 'outer'"));
}

TEST(ParseErrors, ForLoopThatNeverEnds) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Zero
        action: ExecuteBash
        loop:
          for: {start: 1, end: 5, updateBy: 0}
        inputs:
          commands: ["true"]
      - name: Backwards
        action: ExecuteBash
        loop:
          for:
            start: 5
            end: 1
            updateBy: 1
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:8:45: updateBy must not be 0: the loop would never end",
                          "doc.yml:17:23: updateBy 1 never takes the loop from 5 to 1: an "
                          "infinite loop"));
}

TEST(ParseErrors, ForLoopBoundsMustBeNumbers) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
parameters:
  - Count: {type: string, default: '3'}
phases:
  - name: build
    steps:
      - name: Each
        action: ExecuteBash
        loop:
          for:
            start: 1
            end: '{{ Count }}'
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:11:13: a for loop needs 'updateBy'",
                          "doc.yml:12:18: 'end' must be a whole number (loops take no "
                          "references)"));
}

TEST(ParseErrors, EveryBadForLoopBoundIsReported) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Each
        action: ExecuteBash
        loop:
          for: {start: a, end: b}
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:8:16: a for loop needs 'updateBy'",
                          "doc.yml:8:24: 'start' must be a whole number (loops take no references)",
                          "doc.yml:8:32: 'end' must be a whole number (loops take no references)"));
}

TEST(ParseErrors, BadDelimiter) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Pipe
        action: ExecuteBash
        loop:
          forEach: {list: a|b, delimiter: "|"}
        inputs:
          commands: ["true"]
      - name: Two
        action: ExecuteBash
        loop:
          forEach:
            list: a,,b
            delimiter: ',,'
        inputs:
          commands: ["true"]
      - name: Empty
        action: ExecuteBash
        loop:
          forEach:
            list: a
            delimiter: ''
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:8:43: delimiter must be one of . , ; : space tab newline - _ "
                          "(got '|')",
                          HasSubstr("doc.yml:16:24: delimiter must be one of"),
                          HasSubstr("doc.yml:24:24: delimiter must be one of")));
}

TEST(ParseErrors, BadLoopShapes) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Both
        action: ExecuteBash
        loop:
          forEach: [a]
          for: {start: 1, end: 2, updateBy: 1}
        inputs:
          commands: ["true"]
      - name: Neither
        action: ExecuteBash
        loop:
          name: x
        inputs:
          commands: ["true"]
      - name: NoList
        action: ExecuteBash
        loop:
          forEach: {delimiter: ","}
        inputs:
          commands: ["true"]
      - name: Reserved
        action: ExecuteBash
        loop:
          name: loop
          forEach: [a]
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:8:11: a loop needs exactly one of 'for' or 'forEach'",
                          "doc.yml:15:11: a loop needs exactly one of 'for' or 'forEach'",
                          "doc.yml:21:20: forEach needs a list (a list of strings, or list: and "
                          "delimiter:)",
                          "doc.yml:27:17: a loop cannot be named 'loop'; that name refers to the "
                          "current loop"));
}

TEST(ParseErrors, DuplicateLoopNamesInAPhase) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: A
        action: ExecuteBash
        loop: {name: items, forEach: [a]}
        inputs: {commands: ["true"]}
      - name: B
        action: ExecuteBash
        loop: {name: items, forEach: [b]}
        inputs: {commands: ["true"]}
  - name: test
    steps:
      - name: A
        action: ExecuteBash
        loop: {name: items, forEach: [a]}
        inputs: {commands: ["true"]}
)")),
              ElementsAre("doc.yml:11:22: duplicate loop name 'items' in this phase"));
}

TEST(ParseErrors, LogicalNestingDepth) {
  // Four levels of logical operators are allowed; a fifth is not.
  parse_ok(with_steps(R"(
      - name: Deep4
        action: ExecuteBash
        if:
          and:
            - or:
                - not:
                    and:
                      - binaryExists: x
        inputs:
          commands: ["true"]
)"));
  EXPECT_THAT(errors(with_steps(R"(
      - name: Deep5
        action: ExecuteBash
        if:
          and:
            - or:
                - not:
                    and:
                      - or:
                          - binaryExists: x
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:12:25: 'or' is nested too deeply: logical operators may be "
                          "nested at most 4 levels deep"));
}

TEST(ParseErrors, BadConditionInIfAndAssert) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: If
        action: ExecuteBash
        if:
          stringEqual: a
          value: b
        inputs:
          commands: ["true"]
      - name: Check
        action: Assert
        inputs:
          numberEquals: 1
)")),
              ElementsAre(HasSubstr("doc.yml:8:11: unknown key 'stringEqual' in condition (did "
                                    "you mean 'stringEquals'?)"),
                          "doc.yml:15:11: 'numberEquals' needs a 'value' to compare with"));
}

TEST(ParseErrors, BadParameterAndConstantNames) {
  std::string long_name(129, 'x');
  std::string text = doc(R"(
schemaVersion: 1.0
parameters:
  - ab: {type: string}
  - abc: {type: string}
  - a.b.c: {type: string}
  - has space: {type: string}
constants:
  - LONG: {type: string, value: x}
  - 'ok-name_1': {type: string, value: x}
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)");
  text.replace(text.find("LONG"), 4, long_name);
  EXPECT_THAT(errors(text),
              ElementsAre("doc.yml:3:5: invalid name 'ab': names are 3 to 128 characters of "
                          "letters, digits, '_' and '-'",
                          HasSubstr("doc.yml:5:5: invalid name 'a.b.c'"),
                          HasSubstr("doc.yml:6:5: invalid name 'has space'"),
                          HasSubstr("doc.yml:8:5: invalid name '" + long_name + "'")));
  text.replace(text.find(long_name), long_name.size(), std::string(128, 'x'));
  EXPECT_THAT(errors(text), testing::SizeIs(3));
}

TEST(ParseErrors, DuplicateNamesAcrossParametersAndConstants) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
parameters:
  - Name: {type: string}
  - Other: {type: string}
  - Other: {type: string}
constants:
  - Name: {type: string, value: x}
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:5:5: duplicate name 'Other': parameters and constants share "
                          "one namespace",
                          "doc.yml:7:5: duplicate name 'Name': parameters and constants share one "
                          "namespace"));
}

TEST(ParseErrors, BadParameterAndConstantBodies) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
parameters:
  - NoType: {default: x}
  - WrongType: {type: integer}
  - Extra: {type: string, value: x}
  - A1: x
  - Two: {type: string}
    Keys: {type: string}
constants:
  - NoValue: {type: string}
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:3:13: parameter 'NoType' is missing its required 'type' "
                          "(type: string)",
                          "doc.yml:4:23: unsupported type 'integer': the only type is string",
                          "doc.yml:5:27: unknown field 'value' in parameter 'Extra'",
                          HasSubstr("doc.yml:6:5: invalid name 'A1'"),
                          "doc.yml:6:9: parameter 'A1' must be a map, not a string",
                          "doc.yml:7:5: each entry of parameters must be a map with one key, the "
                          "name",
                          "doc.yml:10:14: constant 'NoValue' is missing its required 'value'"));
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
parameters:
  Name: {type: string}
phases:
  - name: build
    steps: [{name: A, action: ExecuteBash, inputs: {commands: ["true"]}}]
)")),
              ElementsAre("doc.yml:3:3: parameters must be a list of '- Name: {...}' entries, not "
                          "a map"));
}

TEST(ParseErrors, ExecuteDocumentRunsWithoutTimeoutAndOnce) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Nested
        action: ExecuteDocument
        timeoutSeconds: 600
        maxAttempts: 2
        inputs:
          document: x.yml
      - name: Default
        action: ExecuteDocument
        timeoutSeconds: 7200
        inputs:
          document: x.yml
)")),
              ElementsAre("doc.yml:7:25: ExecuteDocument steps always run with timeoutSeconds -1",
                          "doc.yml:8:22: ExecuteDocument steps always run with maxAttempts 1",
                          "doc.yml:13:25: ExecuteDocument steps always run with timeoutSeconds "
                          "-1"));
}

TEST(ParseErrors, RebootHasNoTimeout) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Restart
        action: Reboot
        timeoutSeconds: 60
)")),
              ElementsAre("doc.yml:7:25: Reboot steps do not support timeoutSeconds"));
}

TEST(ParseErrors, BadStepOptions) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: A
        action: ExecuteBash
        timeoutSeconds: 0
        maxAttempts: 0
        onFailure: abort
        disableLogging: sometimes
        inputs:
          commands: ["true"]
      - name: B
        action: ExecuteBash
        timeoutSeconds: -2
        maxAttempts: 1001
        inputs:
          commands: ["true"]
      - name: C
        action: ExecuteBash
        timeoutSeconds: soon
        maxAttempts: 1.5
        inputs:
          commands: ["true"]
)")),
              ElementsAre("doc.yml:7:25: timeoutSeconds must be a positive number of seconds or -1 "
                          "(no timeout)",
                          "doc.yml:8:22: maxAttempts must be a whole number from 1 to 1000",
                          "doc.yml:9:20: onFailure must be Abort, Continue or Ignore, not 'abort'",
                          "doc.yml:10:25: disableLogging must be true or false",
                          HasSubstr("doc.yml:15:25: timeoutSeconds must be"),
                          HasSubstr("doc.yml:16:22: maxAttempts must be"),
                          HasSubstr("doc.yml:21:25: timeoutSeconds must be"),
                          HasSubstr("doc.yml:22:22: maxAttempts must be")));
}

TEST(ParseErrors, UnquotedReferenceGivesTheQuotingHint) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
parameters:
  - Name: {type: string}
phases:
  - name: build
    steps:
      - name: Item
        action: ExecuteBash
        inputs:
          commands:
            - {{ Name }}
      - name: Whole
        action: ExecuteBash
        inputs:
          commands: {{ Name }}
      - name: Field
        action: CreateFolder
        inputs:
          - path: {{ Name }}
)")),
              ElementsAre("doc.yml:11:15: 'commands' item must be a string, not a map (a {{ }} "
                          "reference must be quoted: '{{ Name }}')",
                          "doc.yml:15:21: 'commands' must be a list of strings, not a map (a {{ }} "
                          "reference must be quoted: '{{ Name }}')",
                          "doc.yml:19:19: 'path' must be a string, not a map (a {{ }} reference "
                          "must be quoted: '{{ Name }}')"));
}

TEST(ParseErrors, ModuleSpecificValueChecks) {
  EXPECT_THAT(errors(with_steps(R"(
      - name: Files
        action: CreateFile
        inputs:
          - path: /a
            encoding: latin1
            permissions: rwx
      - name: Get
        action: WebDownload
        inputs:
          - source: https://example.com/a
            destination: /a
            checksum: abc
          - source: https://example.com/b
            destination: /b
            checksum: abc
            algorithm: CRC32
)")),
              ElementsAre("doc.yml:9:23: unknown encoding 'latin1' (utf8, utf16, utf16-BE, utf32, "
                          "...)",
                          "doc.yml:10:26: permissions must be octal digits like '0755' or '644', "
                          "not 'rwx'",
                          "doc.yml:14:13: WebDownload needs both 'checksum' and 'algorithm' to "
                          "verify a download",
                          "doc.yml:20:24: algorithm must be MD5, SHA1, SHA256 or SHA512, not "
                          "'CRC32'"));
}

TEST(ParseErrors, EmptyValuesPointAtTheirKey) {
  EXPECT_THAT(errors(doc(R"(
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: A
        action: ExecuteBash
        timeoutSeconds:
        loop:
        inputs:
  - name: test
    steps:
)")),
              ElementsAre("doc.yml:7:9: timeoutSeconds must be a positive number of seconds or -1 "
                          "(no timeout)",
                          "doc.yml:8:9: a loop must be a map, not empty",
                          "doc.yml:9:9: ExecuteBash takes a single map of inputs, not empty",
                          "doc.yml:11:5: steps of phase 'test' must be a non-empty list, not "
                          "empty"));
  EXPECT_THAT(errors("schemaVersion: 1.0\nphases:\n"),
              ElementsAre(HasSubstr("doc.yml:2:1: phases must be a non-empty list")));
}

TEST(ParseErrors, EveryProblemIsReportedInSourceOrder) {
  // Found in a different order (the root's own checks last, references before their step's
  // options), reported by position.
  EXPECT_THAT(errors(doc(R"(
name: many
phases:
  - name: build
    steps:
      - name: A
        action: ExecuteBsh
        inputs:
          commands: ["true"]
      - name: B
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ Missing }}'
        timeoutSeconds: 0
  - name: build
    steps:
      - name: C
        action: CreateFolder
        inputs:
          - owner: root
)")),
              ElementsAre(HasSubstr("doc.yml:1:1: missing required field 'schemaVersion'"),
                          HasSubstr("doc.yml:6:17: unknown action module 'ExecuteBsh'"),
                          HasSubstr("doc.yml:13:21: '{{ Missing }}' refers to no declared"),
                          HasSubstr("doc.yml:14:25: timeoutSeconds must be"),
                          HasSubstr("doc.yml:15:11: duplicate phase name 'build'"),
                          HasSubstr("doc.yml:20:13: CreateFolder input 0 is missing")));
}

TEST(ParseErrors, DiagnosticsFormatWithTheSourceLine) {
  std::string text = with_steps(R"(
      - name: Run
        action: ExecuteBash
        inputs:
          commands: ["echo {{ Nope }}"]
)");
  ParseResult result = parse_document(text, "doc.yml");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(format_diagnostic_with_source(result.diagnostics[0], text),
            "doc.yml:8:28: '{{ Nope }}' refers to no declared parameter or constant\n"
            "            commands: [\"echo {{ Nope }}\"]\n"
            "                             ^");
}

}  // namespace
}  // namespace kiln::document
