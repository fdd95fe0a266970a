// Invalid documents: every problem the parser reports, with its file:line:column. Valid
// documents and the model: parser_test.cpp; invalid references, chaining, loops and conditions:
// parser_reference_errors_test.cpp.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kiln/document/parser.hpp"
#include "kiln/document/parser_testing.hpp"

namespace kiln::document {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace parser_test;  // NOLINT(google-build-using-namespace): the shared test helpers

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
