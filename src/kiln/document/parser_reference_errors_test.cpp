// Invalid {{ }} references, step chaining, loops and conditions: every problem the parser
// reports, with its file:line:column. The document's other parts: parser_errors_test.cpp.

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

}  // namespace
}  // namespace kiln::document
