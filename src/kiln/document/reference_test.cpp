#include "kiln/document/reference.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::document {
namespace {

using Kind = Reference::Kind;

// A compact picture of a split template: "literal" parts as written, references as "<text>".
std::vector<std::string> shape(std::string_view text) {
  std::vector<std::string> out;
  for (const TemplatePart& part : parse_template(text)) {
    out.push_back(part.is_reference ? "<" + part.reference.text + ">" : part.text);
  }
  return out;
}

std::vector<size_t> offsets(std::string_view text) {
  std::vector<size_t> out;
  for (const TemplatePart& part : parse_template(text)) {
    out.push_back(part.offset);
  }
  return out;
}

// --- parse_template --------------------------------------------------------------------------

TEST(ParseTemplate, EmptyStringHasNoParts) {
  EXPECT_TRUE(parse_template("").empty());
}

TEST(ParseTemplate, PlainTextIsOneLiteral) {
  std::vector<TemplatePart> parts = parse_template("echo hello");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].is_reference);
  EXPECT_EQ(parts[0].text, "echo hello");
  EXPECT_EQ(parts[0].offset, 0u);
}

TEST(ParseTemplate, ReferenceAloneIsOnePart) {
  std::vector<TemplatePart> parts = parse_template("{{ Name }}");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].is_reference);
  EXPECT_EQ(parts[0].text, "{{ Name }}");
  EXPECT_EQ(parts[0].reference.kind, Kind::kVariable);
  EXPECT_EQ(parts[0].reference.name, "Name");
  EXPECT_EQ(parts[0].offset, 0u);
}

TEST(ParseTemplate, SeveralReferencesBetweenLiterals) {
  EXPECT_EQ(shape("echo {{ A }} and {{ B }}!"),
            (std::vector<std::string>{"echo ", "<A>", " and ", "<B>", "!"}));
  EXPECT_EQ(offsets("echo {{ A }} and {{ B }}!"), (std::vector<size_t>{0, 5, 12, 17, 24}));
}

TEST(ParseTemplate, PartTextIsTheWholeReferenceAsWritten) {
  std::vector<TemplatePart> parts = parse_template("x{{  A\t}}y");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].text, "{{  A\t}}");
  EXPECT_EQ(parts[1].reference.text, "A");
}

TEST(ParseTemplate, WhitespaceInsideBracesIsTrimmed) {
  for (const char* text : {"{{X}}", "{{ X }}", "{{   X   }}", "{{\tX\n}}", "{{ \t X \t }}"}) {
    std::vector<TemplatePart> parts = parse_template(text);
    ASSERT_EQ(parts.size(), 1u) << text;
    EXPECT_EQ(parts[0].reference.kind, Kind::kVariable) << text;
    EXPECT_EQ(parts[0].reference.text, "X") << text;
    EXPECT_EQ(parts[0].reference.name, "X") << text;
  }
}

TEST(ParseTemplate, AdjacentReferences) {
  EXPECT_EQ(shape("{{A}}{{ B }}{{C}}"), (std::vector<std::string>{"<A>", "<B>", "<C>"}));
  EXPECT_EQ(offsets("{{A}}{{ B }}{{C}}"), (std::vector<size_t>{0, 5, 12}));
}

TEST(ParseTemplate, UnterminatedOpeningIsLiteral) {
  EXPECT_EQ(shape("echo {{ A"), (std::vector<std::string>{"echo {{ A"}));
  EXPECT_EQ(shape("{{"), (std::vector<std::string>{"{{"}));
  EXPECT_EQ(shape("{{ A }} then {{ B"), (std::vector<std::string>{"<A>", " then {{ B"}));
  EXPECT_EQ(offsets("{{ A }} then {{ B"), (std::vector<size_t>{0, 7}));
}

TEST(ParseTemplate, ClosingWithoutOpeningIsLiteral) {
  EXPECT_EQ(shape("a }} b"), (std::vector<std::string>{"a }} b"}));
  EXPECT_EQ(shape("}}{{"), (std::vector<std::string>{"}}{{"}));
}

TEST(ParseTemplate, SingleBracesAreLiteral) {
  EXPECT_EQ(shape("awk '{print $1}' {x}"), (std::vector<std::string>{"awk '{print $1}' {x}"}));
}

TEST(ParseTemplate, ReferenceClosesAtTheFirstClosingBraces) {
  // "{{ {{ X }} }}": the inner text up to the first "}}" is " {{ X ", which is no reference.
  std::vector<TemplatePart> parts = parse_template("{{ {{ X }} }}");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(parts[0].is_reference);
  EXPECT_EQ(parts[0].reference.kind, Kind::kInvalid);
  EXPECT_EQ(parts[1].text, " }}");
  EXPECT_EQ(parts[1].offset, 10u);
}

TEST(ParseTemplate, EmptyBracesAreAnInvalidReference) {
  std::vector<TemplatePart> parts = parse_template("a{{ }}b");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(parts[1].is_reference);
  EXPECT_EQ(parts[1].reference.kind, Kind::kInvalid);
  EXPECT_EQ(parts[1].reference.text, "");
}

TEST(ParseTemplate, PartsConcatenateToTheInput) {
  for (const char* text :
       {"", "plain", "{{A}}", "a{{ B }}c{{", "}}{{x}}{{ y.index }}z", "{{ env:PATH }}/bin"}) {
    std::string joined;
    for (const TemplatePart& part : parse_template(text)) {
      EXPECT_EQ(std::string_view(text).substr(part.offset, part.text.size()), part.text);
      joined += part.text;
    }
    EXPECT_EQ(joined, text);
  }
}

TEST(HasReferences, NeedsBothBraces) {
  EXPECT_TRUE(has_references("{{ X }}"));
  EXPECT_TRUE(has_references("a {{X}} b"));
  EXPECT_TRUE(has_references("{{}}"));
  EXPECT_FALSE(has_references(""));
  EXPECT_FALSE(has_references("plain"));
  EXPECT_FALSE(has_references("{{ X"));
  EXPECT_FALSE(has_references("}} {{"));
  EXPECT_FALSE(has_references("{ X }"));
}

// --- classify_reference ----------------------------------------------------------------------

TEST(ClassifyReference, Variable) {
  Reference ref = classify_reference("  MyParam_1-x ");
  EXPECT_EQ(ref.kind, Kind::kVariable);
  EXPECT_EQ(ref.text, "MyParam_1-x");
  EXPECT_EQ(ref.name, "MyParam_1-x");
  EXPECT_TRUE(ref.phase.empty());
  EXPECT_FALSE(ref.index.has_value());
}

TEST(ClassifyReference, ChainInputWithoutIndex) {
  Reference ref = classify_reference("build.Download.inputs.destination");
  EXPECT_EQ(ref.kind, Kind::kChainInput);
  EXPECT_EQ(ref.phase, "build");
  EXPECT_EQ(ref.step, "Download");
  EXPECT_EQ(ref.field, "destination");
  EXPECT_FALSE(ref.index.has_value());
}

TEST(ClassifyReference, ChainInputWithIndex) {
  Reference ref = classify_reference("build.Download.inputs[0].destination");
  EXPECT_EQ(ref.kind, Kind::kChainInput);
  EXPECT_EQ(ref.step, "Download");
  EXPECT_EQ(ref.field, "destination");
  ASSERT_TRUE(ref.index.has_value());
  EXPECT_EQ(*ref.index, 0u);
  EXPECT_EQ(classify_reference("a.b.inputs[12].c").index, std::optional<size_t>(12));
}

TEST(ClassifyReference, ChainOutput) {
  Reference ref = classify_reference("validate.SamplePowerShellStep.outputs.stdout");
  EXPECT_EQ(ref.kind, Kind::kChainOutput);
  EXPECT_EQ(ref.phase, "validate");
  EXPECT_EQ(ref.step, "SamplePowerShellStep");
  EXPECT_EQ(ref.field, "stdout");
  EXPECT_FALSE(ref.index.has_value());
}

TEST(ClassifyReference, ChainStepNamesMayHoldSpaces) {
  Reference ref = classify_reference("build.My Step.outputs.stdout");
  EXPECT_EQ(ref.kind, Kind::kChainOutput);
  EXPECT_EQ(ref.step, "My Step");
}

TEST(ClassifyReference, UnnamedLoop) {
  Reference index = classify_reference("loop.index");
  EXPECT_EQ(index.kind, Kind::kLoop);
  EXPECT_EQ(index.name, "loop");
  EXPECT_EQ(index.field, "index");
  Reference value = classify_reference("loop.value");
  EXPECT_EQ(value.kind, Kind::kLoop);
  EXPECT_EQ(value.field, "value");
}

TEST(ClassifyReference, NamedLoop) {
  Reference ref = classify_reference(" myLoop.value ");
  EXPECT_EQ(ref.kind, Kind::kLoop);
  EXPECT_EQ(ref.name, "myLoop");
  EXPECT_EQ(ref.field, "value");
  EXPECT_EQ(ref.text, "myLoop.value");
}

TEST(ClassifyReference, Env) {
  Reference ref = classify_reference("env:HOME");
  EXPECT_EQ(ref.kind, Kind::kEnv);
  EXPECT_EQ(ref.name, "HOME");
  EXPECT_EQ(classify_reference("env:ProgramFiles(x86)").name, "ProgramFiles(x86)");
  EXPECT_EQ(classify_reference(" env: PATH ").name, "PATH");
}

TEST(ClassifyReference, Context) {
  Reference ref = classify_reference("context:region");
  EXPECT_EQ(ref.kind, Kind::kContext);
  EXPECT_EQ(ref.name, "region");
  EXPECT_EQ(ref.text, "context:region");
  // An unknown key still classifies; the validator rejects it.
  EXPECT_EQ(classify_reference("context:nope").kind, Kind::kContext);
}

TEST(ClassifyReference, Ssm) {
  Reference ref = classify_reference("aws:ssm:/my/param");
  EXPECT_EQ(ref.kind, Kind::kSsm);
  EXPECT_EQ(ref.name, "/my/param");
  Reference resolve = classify_reference("aws:ssm:resolve(ParamName)");
  EXPECT_EQ(resolve.kind, Kind::kSsm);
  EXPECT_EQ(resolve.name, "resolve(ParamName)");
  EXPECT_EQ(classify_reference("aws:ssm:/aws/reference/secretsmanager/db").name,
            "/aws/reference/secretsmanager/db");
}

TEST(ClassifyReference, Imds) {
  Reference ref = classify_reference("aws:imds:placement/region");
  EXPECT_EQ(ref.kind, Kind::kImds);
  EXPECT_EQ(ref.name, "placement/region");
}

TEST(ClassifyReference, PrefixWithoutNameIsInvalid) {
  for (const char* inner : {"env:", "context:", "aws:ssm:", "aws:imds:", "env:   "}) {
    EXPECT_EQ(classify_reference(inner).kind, Kind::kInvalid) << inner;
  }
}

TEST(ClassifyReference, PrefixesAreCaseSensitive) {
  EXPECT_EQ(classify_reference("ENV:HOME").kind, Kind::kInvalid);
  EXPECT_EQ(classify_reference("Context:region").kind, Kind::kInvalid);
  EXPECT_EQ(classify_reference("aws:SSM:/x").kind, Kind::kInvalid);
  EXPECT_EQ(classify_reference("aws:other:x").kind, Kind::kInvalid);
}

TEST(ClassifyReference, InvalidForms) {
  for (const char* inner : {"",
                            "a.b",
                            "a.b.c",
                            "a.b.c.d.e",
                            "x.y.inputs[z].f",
                            "x.y.inputs[].f",
                            "x.y.inputs[-1].f",
                            "x.y.inputs[+1].f",
                            "x.y.inputs[1].",
                            "x.y.inputs[1.f",
                            "x.y.inputs[18446744073709551616].f",
                            "x.y.input.f",
                            "x.y.Outputs.f",
                            "x..outputs.f",
                            ".y.outputs.f",
                            "x.y.outputs.std out",
                            "my var",
                            "a$b",
                            "loop.Index",
                            ".index",
                            "{{ X"}) {
    Reference ref = classify_reference(inner);
    EXPECT_EQ(ref.kind, Kind::kInvalid) << "'" << inner << "'";
  }
}

TEST(ClassifyReference, InvalidKeepsTheTrimmedText) {
  Reference ref = classify_reference("  a.b.c  ");
  EXPECT_EQ(ref.kind, Kind::kInvalid);
  EXPECT_EQ(ref.text, "a.b.c");
}

// --- render_template -------------------------------------------------------------------------

std::optional<std::string> lookup(const std::map<std::string, std::string>& values,
                                  const Reference& ref) {
  auto it = values.find(ref.text);
  if (it == values.end()) {
    return std::nullopt;
  }
  return it->second;
}

TEST(RenderTemplate, ReplacesResolvedReferences) {
  std::map<std::string, std::string> values = {{"Greeting", "hello"}, {"Who", "world"}};
  ReferenceResolver resolve = [&](const Reference& ref) { return lookup(values, ref); };
  EXPECT_EQ(render_template("echo {{ Greeting }}, {{Who}}!", resolve), "echo hello, world!");
  EXPECT_EQ(render_template("{{Greeting}}{{ Who }}", resolve), "helloworld");
}

TEST(RenderTemplate, LeavesUnresolvedReferencesAsWritten) {
  std::map<std::string, std::string> values = {{"A", "1"}};
  ReferenceResolver resolve = [&](const Reference& ref) { return lookup(values, ref); };
  EXPECT_EQ(render_template("{{ A }} {{  loop.index }} {{ a.b.c }}", resolve),
            "1 {{  loop.index }} {{ a.b.c }}");
}

TEST(RenderTemplate, ResolvedValueMayBeEmpty) {
  ReferenceResolver resolve = [](const Reference&) { return std::optional<std::string>(""); };
  EXPECT_EQ(render_template("[{{ Required }}]", resolve), "[]");
}

TEST(RenderTemplate, ValuesAreNotRenderedAgain) {
  std::map<std::string, std::string> values = {{"A", "{{ B }}"}, {"B", "no"}};
  ReferenceResolver resolve = [&](const Reference& ref) { return lookup(values, ref); };
  EXPECT_EQ(render_template("{{ A }}", resolve), "{{ B }}");
}

TEST(RenderTemplate, TextWithoutReferencesIsNotResolved) {
  int calls = 0;
  ReferenceResolver resolve = [&](const Reference&) {
    ++calls;
    return std::optional<std::string>("x");
  };
  EXPECT_EQ(render_template("plain {{ unterminated", resolve), "plain {{ unterminated");
  EXPECT_EQ(render_template("", resolve), "");
  EXPECT_EQ(calls, 0);
}

TEST(RenderTemplate, ResolverSeesTheClassifiedReference) {
  std::vector<Kind> kinds;
  ReferenceResolver resolve = [&](const Reference& ref) {
    kinds.push_back(ref.kind);
    return std::optional<std::string>();
  };
  render_template("{{ P }}{{ b.s.outputs.stdout }}{{ loop.value }}{{ env:X }}{{ bad.ref.x }}",
                  resolve);
  EXPECT_EQ(kinds,
            (std::vector<Kind>{
                Kind::kVariable, Kind::kChainOutput, Kind::kLoop, Kind::kEnv, Kind::kInvalid}));
}

// --- names -----------------------------------------------------------------------------------

TEST(VariableName, LengthBoundaries) {
  EXPECT_FALSE(is_valid_variable_name(""));
  EXPECT_FALSE(is_valid_variable_name("ab"));
  EXPECT_TRUE(is_valid_variable_name("abc"));
  EXPECT_TRUE(is_valid_variable_name(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_variable_name(std::string(129, 'a')));
}

TEST(VariableName, Characters) {
  EXPECT_TRUE(is_valid_variable_name("Param_1-x"));
  EXPECT_TRUE(is_valid_variable_name("123"));
  EXPECT_TRUE(is_valid_variable_name("---"));
  for (const char* bad : {"a.b.c", "a b", "a$c", "a:b", "a/b", "a{b}", "na\xc3\xafve", "tab\t"}) {
    EXPECT_FALSE(is_valid_variable_name(bad)) << bad;
  }
}

TEST(ContextKey, EveryDocumentedKey) {
  for (const char* key : {"executionId",
                          "accountId",
                          "region",
                          "osPlatform",
                          "osName",
                          "osVersion",
                          "date",
                          "dateTime",
                          "uuid",
                          "hostname",
                          "phase",
                          "step"}) {
    EXPECT_TRUE(is_known_context_key(key)) << key;
  }
}

TEST(ContextKey, UnknownAndMiscasedKeys) {
  for (const char* key : {"", "Region", "REGION", "regions", "instanceId", "date "}) {
    EXPECT_FALSE(is_known_context_key(key)) << "'" << key << "'";
  }
}

}  // namespace
}  // namespace kiln::document
