#include "kiln/document/condition.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"

namespace kiln::document {
namespace {

// A machine with exactly the binaries, files, folders and digests a test gives it. It records
// every probe so tests can check what evaluation looked at (and what it skipped).
class FakeProbe final : public Probe {
 public:
  std::set<std::string> binaries;
  std::set<std::string> files;
  std::set<std::string> folders;
  std::map<std::pair<std::string, ConditionOp>, std::string> hashes;
  mutable std::vector<std::string> probed;

  bool binary_exists(const std::string& name) const override {
    probed.push_back("binary " + name);
    return binaries.count(name) > 0;
  }
  bool file_exists(const std::string& path) const override {
    probed.push_back("file " + path);
    return files.count(path) > 0;
  }
  bool folder_exists(const std::string& path) const override {
    probed.push_back("folder " + path);
    return folders.count(path) > 0;
  }
  std::optional<std::string> file_hash(const std::string& path,
                                       ConditionOp algorithm) const override {
    probed.push_back(std::string(condition_op_name(algorithm)) + " " + path);
    auto it = hashes.find({path, algorithm});
    return it == hashes.end() ? std::nullopt : std::optional(it->second);
  }
};

std::string identity(const std::string& text) {
  return text;
}

std::optional<Condition> parse(const std::string& yaml, Diagnostics* diagnostics = nullptr) {
  Diagnostics local;
  Diagnostics& out = diagnostics != nullptr ? *diagnostics : local;
  std::optional<Condition> condition = parse_condition(YAML::Load(yaml), "c.yml", out);
  EXPECT_EQ(condition.has_value(), out.empty()) << yaml;
  return condition;
}

// The formatted diagnostics of parsing `yaml` as an Assert expression (or, with `as_if`, as an
// `if`), which must fail.
std::vector<std::string> errors(const std::string& yaml, bool as_if = false) {
  Diagnostics diagnostics;
  YAML::Node node = YAML::Load(yaml);
  bool parsed = as_if ? parse_conditional(node, "c.yml", diagnostics).has_value()
                      : parse_condition(node, "c.yml", diagnostics).has_value();
  EXPECT_FALSE(parsed) << yaml;
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) {
    out.push_back(format_diagnostic(d));
  }
  return out;
}

std::vector<std::string> if_errors(const std::string& yaml) {
  return errors(yaml, true);
}

bool eval(const std::string& yaml, const Probe& probe = FakeProbe()) {
  std::optional<Condition> condition = parse(yaml);
  if (!condition) {
    ADD_FAILURE() << "does not parse: " << yaml;
    return false;
  }
  return evaluate(*condition, identity, probe);
}

// Evaluates `op: baseline` with `value: value`, built directly so any text can be used.
bool compare(ConditionOp op, const std::string& baseline, const std::string& value) {
  Condition condition;
  condition.op = op;
  condition.operand = baseline;
  condition.value = value;
  return evaluate(condition, identity, FakeProbe());
}

bool unary(ConditionOp op, const std::string& operand) {
  Condition condition;
  condition.op = op;
  condition.operand = operand;
  return evaluate(condition, identity, FakeProbe());
}

using Op = ConditionOp;
using Strings = std::vector<std::string>;

// ----------------------------------------------------------------------------------------------
// Operator names

TEST(ConditionOpTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Op::kBooleanEquals); ++i) {
    Op op = static_cast<Op>(i);
    std::optional<Op> parsed = parse_condition_op(condition_op_name(op));
    ASSERT_TRUE(parsed.has_value()) << condition_op_name(op);
    EXPECT_EQ(*parsed, op);
  }
  EXPECT_EQ(condition_op_name(Op::kFileMd5Equals), "fileMD5Equals");
  EXPECT_EQ(condition_op_name(Op::kFileSha512Equals), "fileSHA512Equals");
  EXPECT_EQ(condition_op_name(Op::kStringGreaterThanEquals), "stringGreaterThanEquals");
}

TEST(ConditionOpTest, NamesAreCaseSensitive) {
  EXPECT_FALSE(parse_condition_op("StringEquals").has_value());
  EXPECT_FALSE(parse_condition_op("fileMd5Equals").has_value());
  EXPECT_FALSE(parse_condition_op("").has_value());
}

// ----------------------------------------------------------------------------------------------
// Strings

TEST(ConditionStringTest, StringIsEmpty) {
  EXPECT_TRUE(eval("stringIsEmpty: ''"));
  EXPECT_FALSE(eval("stringIsEmpty: ' '"));
  EXPECT_FALSE(eval("stringIsEmpty: 'Hello.'"));
}

TEST(ConditionStringTest, StringIsWhitespace) {
  EXPECT_TRUE(eval("stringIsWhitespace: '   '"));
  EXPECT_TRUE(eval("stringIsWhitespace: \"\\t\\n\\r\\v\\f \""));
  EXPECT_FALSE(eval("stringIsWhitespace: ' Hello? '"));
  EXPECT_FALSE(eval("stringIsWhitespace: ''"));  // our choice: empty is not whitespace
  // Go's unicode.IsSpace: no-break space, em space, ideographic space...
  EXPECT_TRUE(unary(Op::kStringIsWhitespace, "\u00a0\u2003\u3000\u0085"));
  EXPECT_FALSE(unary(Op::kStringIsWhitespace, "\u200b"));    // zero width space is not a space
  EXPECT_FALSE(unary(Op::kStringIsWhitespace, "\xc2"));      // truncated UTF-8
  EXPECT_FALSE(unary(Op::kStringIsWhitespace, "\xc0\xa0"));  // overlong encoding of a space
}

TEST(ConditionStringTest, StringEqualsIgnoresCaseButNotSpace) {
  EXPECT_TRUE(eval("stringEquals: 'Hello'\nvalue: 'hELLO'"));
  EXPECT_FALSE(eval("stringEquals: 'Hello'\nvalue: 'Hello '"));
  EXPECT_FALSE(eval("stringEquals: 'Hello'\nvalue: ' Hello'"));
  EXPECT_FALSE(eval("stringEquals: 'Hello'\nvalue: 'Hallo'"));
  EXPECT_TRUE(eval("stringEquals: ''\nvalue: ''"));
  EXPECT_FALSE(compare(Op::kStringEquals, "\u00c9", "\u00e9"));  // only ASCII letters fold
}

TEST(ConditionStringTest, StringComparisonsUseTheLiteralTextOfNumbers) {
  EXPECT_TRUE(eval("stringEquals: 2.1.1\nvalue: '2.1.1'"));
  EXPECT_TRUE(eval("stringEquals: 1.0\nvalue: '1.0'"));
  EXPECT_FALSE(eval("stringEquals: 1.0\nvalue: 1"));
  EXPECT_TRUE(eval("stringEquals: true\nvalue: 'TRUE'"));
}

TEST(ConditionStringTest, OrderingComparesValueAgainstBaseline) {
  // AWS's example: numeric strings sort before alphabetic ones.
  EXPECT_TRUE(eval("stringLessThan: 'a'\nvalue: '0'"));
  EXPECT_FALSE(eval("stringLessThan: '0'\nvalue: 'a'"));
  EXPECT_FALSE(eval("stringLessThan: 'a'\nvalue: 'a'"));
  EXPECT_TRUE(eval("stringGreaterThan: '0'\nvalue: 'a'"));
  EXPECT_FALSE(eval("stringGreaterThan: 'a'\nvalue: '0'"));
  EXPECT_FALSE(eval("stringGreaterThan: 'a'\nvalue: 'a'"));
  EXPECT_TRUE(eval("stringLessThanEquals: 'b'\nvalue: 'a'"));
  EXPECT_TRUE(eval("stringLessThanEquals: 'b'\nvalue: 'b'"));
  EXPECT_FALSE(eval("stringLessThanEquals: 'b'\nvalue: 'c'"));
  EXPECT_TRUE(eval("stringGreaterThanEquals: 'b'\nvalue: 'c'"));
  EXPECT_TRUE(eval("stringGreaterThanEquals: 'b'\nvalue: 'b'"));
  EXPECT_FALSE(eval("stringGreaterThanEquals: 'b'\nvalue: 'a'"));
}

TEST(ConditionStringTest, OrderingIgnoresCase) {
  // Case-sensitively 'a' (0x61) sorts after 'B' (0x42); folded it sorts before 'b'.
  EXPECT_TRUE(compare(Op::kStringLessThan, "B", "a"));
  EXPECT_FALSE(compare(Op::kStringGreaterThan, "B", "a"));
  EXPECT_TRUE(compare(Op::kStringLessThanEquals, "ABC", "abc"));
  EXPECT_TRUE(compare(Op::kStringGreaterThanEquals, "ABC", "abc"));
  EXPECT_FALSE(compare(Op::kStringLessThan, "ABC", "abc"));
  EXPECT_FALSE(compare(Op::kStringGreaterThan, "ABC", "abc"));
  // Folding is to lower case: '_' (0x5f) sorts before 'a' (0x61) whatever the case of the 'A'.
  EXPECT_TRUE(compare(Op::kStringLessThan, "A", "_"));
  // A prefix sorts first; bytes compare unsigned, so UTF-8 sorts by code point.
  EXPECT_TRUE(compare(Op::kStringLessThan, "abc", "ab"));
  EXPECT_TRUE(compare(Op::kStringLessThan, "\u00e9", "z"));
}

TEST(ConditionStringTest, PatternMatchesIsAnUnanchoredRe2Search) {
  EXPECT_TRUE(eval("patternMatches: '^\\d+\\.\\d+$'\nvalue: '1.25'"));
  EXPECT_FALSE(eval("patternMatches: '^\\d+\\.\\d+$'\nvalue: 'v1.25'"));
  EXPECT_TRUE(eval("patternMatches: 'ell'\nvalue: 'Hello'"));
  EXPECT_FALSE(eval("patternMatches: 'xyz'\nvalue: 'Hello'"));
  EXPECT_TRUE(eval("patternMatches: '(?P<major>\\d+)\\.'\nvalue: 'v2.1'"));
  EXPECT_TRUE(eval("patternMatches: ''\nvalue: 'anything'"));
}

TEST(ConditionStringTest, PatternMatchesIsCaseSensitiveLikeGo) {
  EXPECT_FALSE(eval("patternMatches: 'HELLO'\nvalue: 'hello'"));
  EXPECT_TRUE(eval("patternMatches: '(?i)HELLO'\nvalue: 'hello'"));
}

TEST(ConditionStringTest, PatternMatchesAnchorsAtTextEndsUnlessMultiLine) {
  EXPECT_FALSE(compare(Op::kPatternMatches, "^b$", "a\nb"));
  EXPECT_TRUE(compare(Op::kPatternMatches, "(?m)^b$", "a\nb"));
  EXPECT_FALSE(compare(Op::kPatternMatches, "a.b", "a\nb"));
}

TEST(ConditionStringTest, PatternThatFailsAfterResolutionIsFalse) {
  std::optional<Condition> condition = parse("patternMatches: '{{ pattern }}'\nvalue: '('");
  ASSERT_TRUE(condition.has_value());
  auto resolve = [](const std::string& text) {
    return text == "{{ pattern }}" ? std::string("(") : text;
  };
  EXPECT_FALSE(evaluate(*condition, resolve, FakeProbe()));
  EXPECT_FALSE(compare(Op::kPatternMatches, "(a)\\1", "aa"));  // no backreferences in RE2
}

// ----------------------------------------------------------------------------------------------
// Numbers

TEST(ConditionNumberTest, OrderingComparesValueAgainstBaseline) {
  EXPECT_TRUE(eval("numberLessThan: 2\nvalue: 1"));
  EXPECT_FALSE(eval("numberLessThan: 1\nvalue: 2"));
  EXPECT_FALSE(eval("numberLessThan: 2\nvalue: 2"));
  EXPECT_TRUE(eval("numberLessThanEquals: 2\nvalue: 2"));
  EXPECT_TRUE(eval("numberLessThanEquals: 2\nvalue: 1"));
  EXPECT_FALSE(eval("numberLessThanEquals: 2\nvalue: 3"));
  EXPECT_TRUE(eval("numberGreaterThan: 1\nvalue: 2"));
  EXPECT_FALSE(eval("numberGreaterThan: 2\nvalue: 1"));
  EXPECT_FALSE(eval("numberGreaterThan: 2\nvalue: 2"));
  EXPECT_TRUE(eval("numberGreaterThanEquals: 2\nvalue: 2"));
  EXPECT_TRUE(eval("numberGreaterThanEquals: 2\nvalue: 3"));
  EXPECT_FALSE(eval("numberGreaterThanEquals: 2\nvalue: 1"));
  EXPECT_TRUE(eval("numberEquals: 1\nvalue: 1"));
  EXPECT_FALSE(eval("numberEquals: 1\nvalue: 3"));
}

TEST(ConditionNumberTest, EqualNumbersWrittenDifferently) {
  EXPECT_TRUE(compare(Op::kNumberEquals, "1", "1.0"));
  EXPECT_TRUE(eval("numberEquals: 1.0\nvalue: '1'"));
  EXPECT_TRUE(compare(Op::kNumberEquals, "1.50", "1.5"));
  EXPECT_TRUE(compare(Op::kNumberEquals, "0", "-0"));
  EXPECT_TRUE(compare(Op::kNumberEquals, "-0.0", "+0"));
  EXPECT_TRUE(compare(Op::kNumberEquals, "5", "+5"));
  EXPECT_TRUE(compare(Op::kNumberEquals, "7", "007"));
  EXPECT_TRUE(compare(Op::kNumberEquals, "0.5", "000.500"));
  EXPECT_FALSE(compare(Op::kNumberEquals, "5", "-5"));
  EXPECT_FALSE(compare(Op::kNumberEquals, "0.1", "0.01"));
}

TEST(ConditionNumberTest, ComparesByValueNotText) {
  EXPECT_TRUE(compare(Op::kNumberGreaterThan, "9", "10"));
  EXPECT_TRUE(compare(Op::kNumberLessThan, "1.5", "1.05"));
  EXPECT_TRUE(compare(Op::kNumberLessThan, "1", "0.999"));
  EXPECT_TRUE(compare(Op::kNumberLessThan, "-1", "-2"));
  EXPECT_TRUE(compare(Op::kNumberLessThan, "-1.25", "-1.5"));
  EXPECT_TRUE(compare(Op::kNumberLessThan, "0", "-0.5"));
  EXPECT_TRUE(compare(Op::kNumberGreaterThan, "-0.5", "0"));
  EXPECT_TRUE(compare(Op::kNumberLessThan, "0.10001", "0.1"));
}

TEST(ConditionNumberTest, ExactBeyondSixtyFourBitsAndDoubles) {
  const std::string big = "123456789012345678901234567890";
  EXPECT_TRUE(compare(Op::kNumberEquals, big, "000" + big));
  EXPECT_TRUE(compare(Op::kNumberLessThan, big, "123456789012345678901234567889"));
  EXPECT_FALSE(compare(Op::kNumberEquals, big, "123456789012345678901234567891"));
  EXPECT_TRUE(compare(Op::kNumberGreaterThan, "18446744073709551615", "18446744073709551616"));
  // Equal as doubles, different as decimals.
  EXPECT_FALSE(compare(Op::kNumberEquals, "9007199254740993", "9007199254740992"));
  EXPECT_TRUE(compare(
      Op::kNumberLessThan, "0.30000000000000000000000000001", "0.30000000000000000000000000000"));
}

TEST(ConditionNumberTest, NonNumbersAreFalse) {
  const Strings not_numbers = {"a10",
                               "",
                               " 1",
                               "1 ",
                               "1.",
                               ".5",
                               "1e3",
                               "0x10",
                               "1,000",
                               "--1",
                               "+-1",
                               "1.2.3",
                               "Infinity",
                               "NaN",
                               "1_000",
                               "\u0661"};
  const Op ops[] = {Op::kNumberEquals,
                    Op::kNumberLessThan,
                    Op::kNumberLessThanEquals,
                    Op::kNumberGreaterThan,
                    Op::kNumberGreaterThanEquals};
  for (const std::string& text : not_numbers) {
    for (Op op : ops) {
      EXPECT_FALSE(compare(op, "1", text)) << condition_op_name(op) << " value " << text;
      EXPECT_FALSE(compare(op, text, "1")) << condition_op_name(op) << " baseline " << text;
      EXPECT_FALSE(compare(op, text, text)) << condition_op_name(op) << " both " << text;
    }
  }
}

TEST(ConditionNumberTest, YamlNumberSyntaxBeyondTheAwsPatternIsNotANumber) {
  EXPECT_FALSE(eval("numberEquals: 1e3\nvalue: '1000'"));
  EXPECT_FALSE(eval("numberEquals: 0x10\nvalue: 16"));
}

// ----------------------------------------------------------------------------------------------
// Booleans (workflow documents)

TEST(ConditionBooleanTest, BooleanEquals) {
  EXPECT_TRUE(eval("booleanEquals: true\nvalue: true"));
  EXPECT_TRUE(eval("booleanEquals: true\nvalue: 'True'"));
  EXPECT_TRUE(eval("booleanEquals: false\nvalue: 'FALSE'"));
  EXPECT_TRUE(eval("booleanEquals: true\nvalue: 1"));
  EXPECT_FALSE(eval("booleanEquals: true\nvalue: false"));
  EXPECT_FALSE(eval("booleanEquals: false\nvalue: true"));
  EXPECT_FALSE(eval("booleanEquals: true\nvalue: 'yes'"));
  EXPECT_FALSE(eval("booleanEquals: 'maybe'\nvalue: 'maybe'"));
}

// ----------------------------------------------------------------------------------------------
// Files, through a fake probe

TEST(ConditionFileTest, ExistenceChecks) {
  FakeProbe probe;
  probe.binaries = {"dnf"};
  probe.files = {"/etc/os-release"};
  probe.folders = {"/opt"};
  EXPECT_TRUE(eval("binaryExists: 'dnf'", probe));
  EXPECT_FALSE(eval("binaryExists: 'yum'", probe));
  EXPECT_TRUE(eval("fileExists: '/etc/os-release'", probe));
  EXPECT_FALSE(eval("fileExists: '/opt'", probe));
  EXPECT_TRUE(eval("folderExists: '/opt'", probe));
  EXPECT_FALSE(eval("folderExists: '/etc/os-release'", probe));
  EXPECT_EQ(probe.probed,
            (Strings{"binary dnf",
                     "binary yum",
                     "file /etc/os-release",
                     "file /opt",
                     "folder /opt",
                     "folder /etc/os-release"}));
}

TEST(ConditionFileTest, HashComparisonsIgnoreCase) {
  FakeProbe probe;
  probe.hashes[{"/f", Op::kFileMd5Equals}] = "b1946ac92492d2347c6235b4d2611184";
  probe.hashes[{"/f", Op::kFileSha1Equals}] = "f572d396fae9206628714fb2ce00f72e94f2258f";
  probe.hashes[{"/f", Op::kFileSha256Equals}] = "5891b5b5";
  probe.hashes[{"/f", Op::kFileSha512Equals}] = "e7c22b99";
  EXPECT_TRUE(eval("fileMD5Equals: 'B1946AC92492D2347C6235B4D2611184'\npath: /f", probe));
  EXPECT_TRUE(eval("fileSHA1Equals: 'f572d396fae9206628714fb2ce00f72e94f2258f'\npath: /f", probe));
  EXPECT_TRUE(eval("fileSHA256Equals: '5891B5b5'\npath: /f", probe));
  EXPECT_TRUE(eval("fileSHA512Equals: 'E7C22B99'\npath: /f", probe));
  EXPECT_FALSE(eval("fileMD5Equals: 'b1946ac92492d2347c6235b4d2611185'\npath: /f", probe));
  EXPECT_FALSE(eval("fileSHA1Equals: 'f572d396'\npath: /f", probe));
  EXPECT_FALSE(eval("fileSHA256Equals: '5891b5b6'\npath: /f", probe));
  EXPECT_FALSE(eval("fileSHA512Equals: '5891b5b5'\npath: /f", probe));
  EXPECT_FALSE(eval("fileSHA256Equals: ' 5891b5b5'\npath: /f", probe));
  EXPECT_FALSE(eval("fileSHA256Equals: '5891b5b5'\npath: /missing", probe));
  EXPECT_EQ(probe.probed.front(), "fileMD5Equals /f");
  EXPECT_EQ(probe.probed.back(), "fileSHA256Equals /missing");
}

// ----------------------------------------------------------------------------------------------
// Logical operators

TEST(ConditionLogicalTest, AndOrNot) {
  const std::string t = "{stringEquals: a, value: a}";
  const std::string f = "{stringEquals: a, value: b}";
  EXPECT_TRUE(eval("and: [" + t + ", " + t + "]"));
  EXPECT_FALSE(eval("and: [" + t + ", " + f + "]"));
  EXPECT_TRUE(eval("and: [" + t + "]"));
  EXPECT_TRUE(eval("or: [" + f + ", " + t + "]"));
  EXPECT_FALSE(eval("or: [" + f + ", " + f + "]"));
  EXPECT_TRUE(eval("not: " + f));
  EXPECT_FALSE(eval("not: " + t));
}

TEST(ConditionLogicalTest, EvaluationStopsAtTheFirstDecidingOperand) {
  FakeProbe probe;
  probe.files = {"/yes"};
  EXPECT_FALSE(eval("and: [{fileExists: /no}, {folderExists: /x}]", probe));
  EXPECT_TRUE(eval("or: [{fileExists: /yes}, {folderExists: /x}]", probe));
  EXPECT_EQ(probe.probed, (Strings{"file /no", "file /yes"}));
}

TEST(ConditionLogicalTest, AwsCookbookExample) {
  const std::string yaml =
      "and:\n"
      "  - binaryExists: 'dnf'\n"
      "  - not:\n"
      "      binaryExists: 'unzip'\n";
  FakeProbe with_dnf;
  with_dnf.binaries = {"dnf"};
  EXPECT_TRUE(eval(yaml, with_dnf));
  FakeProbe with_both;
  with_both.binaries = {"dnf", "unzip"};
  EXPECT_FALSE(eval(yaml, with_both));
}

TEST(ConditionLogicalTest, FourLevelsOfNestingAreAllowed) {
  const std::string yaml =
      "and:\n"
      "  - or:\n"
      "      - not:\n"
      "          and:\n"
      "            - stringEquals: a\n"
      "              value: b\n";
  EXPECT_TRUE(eval(yaml));
}

TEST(ConditionLogicalTest, FiveLevelsAreRejected) {
  const std::string yaml =
      "and:\n"
      "  - or:\n"
      "      - not:\n"
      "          and:\n"
      "            - not:\n"
      "                stringEquals: a\n"
      "                value: b\n";
  EXPECT_EQ(errors(yaml),
            (Strings{"c.yml:5:15: 'not' is nested too deeply: logical operators may be nested at "
                     "most 4 levels deep"}));
}

TEST(ConditionLogicalTest, AliasCyclesStopAtTheDepthLimit) {
  EXPECT_EQ(errors("&a {not: *a}"),
            (Strings{"c.yml:1:5: 'not' is nested too deeply: logical operators may be nested at "
                     "most 4 levels deep"}));
}

TEST(ConditionLogicalTest, AliasFanOutIsBounded) {
  std::string yaml = "l0: &l0 {stringIsEmpty: ''}\n";
  for (int level = 1; level <= 4; ++level) {
    std::string prev = "*l" + std::to_string(level - 1);
    yaml += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " {or: [";
    for (int i = 0; i < 20; ++i) {
      yaml += (i > 0 ? ", " : "") + prev;
    }
    yaml += "]}\n";
  }
  Diagnostics diagnostics;
  EXPECT_FALSE(parse_condition(YAML::Load(yaml)["l4"], "c.yml", diagnostics).has_value());
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].message, "condition is too large (more than 1000 operators)");
}

// ----------------------------------------------------------------------------------------------
// References

TEST(ConditionResolveTest, EveryStringIsResolvedBeforeUse) {
  std::map<std::string, std::string> vars = {{"{{ name }}", "dnf"},
                                             {"{{ version }}", "2.1.1"},
                                             {"{{ digest }}", "ABCD"},
                                             {"{{ file }}", "/f"}};
  auto resolve = [&](const std::string& text) {
    auto it = vars.find(text);
    return it == vars.end() ? text : it->second;
  };
  FakeProbe probe;
  probe.binaries = {"dnf"};
  probe.hashes[{"/f", Op::kFileSha256Equals}] = "abcd";
  auto check = [&](const std::string& yaml) {
    std::optional<Condition> condition = parse(yaml);
    return condition && evaluate(*condition, resolve, probe);
  };
  EXPECT_TRUE(check("binaryExists: '{{ name }}'"));
  EXPECT_TRUE(check("stringEquals: '2.1.1'\nvalue: '{{ version }}'"));
  EXPECT_TRUE(check("numberGreaterThan: '{{ version }}'\nvalue: '3'") == false);
  EXPECT_TRUE(check("fileSHA256Equals: '{{ digest }}'\npath: '{{ file }}'"));
}

TEST(ConditionResolveTest, ForEachStringVisitsOperandsValuesAndPaths) {
  std::optional<Condition> condition = parse(
      "and:\n"
      "  - stringEquals: a\n"
      "    value: b\n"
      "  - not:\n"
      "      fileSHA1Equals: c\n"
      "      path: d\n");
  ASSERT_TRUE(condition.has_value());
  Strings seen;
  std::vector<int> lines;
  for_each_string(*condition, [&](const std::string& text, Mark mark) {
    seen.push_back(text);
    lines.push_back(mark.line);
  });
  EXPECT_EQ(seen, (Strings{"a", "b", "c", "d"}));
  EXPECT_EQ(lines, (std::vector<int>{2, 2, 5, 5}));
}

// ----------------------------------------------------------------------------------------------
// Parsing: structure and marks

TEST(ConditionParseTest, KeepsOperandsValuesPathsAndMarks) {
  std::optional<Condition> condition = parse(
      "or:\n"
      "  - numberEquals: 007\n"
      "    value: '{{ x }}'\n"
      "  - fileMD5Equals: abc\n"
      "    path: /tmp/f\n");
  ASSERT_TRUE(condition.has_value());
  EXPECT_EQ(condition->op, Op::kOr);
  EXPECT_EQ(condition->mark.line, 1);
  EXPECT_EQ(condition->mark.column, 1);
  ASSERT_EQ(condition->children.size(), 2u);
  const Condition& number = condition->children[0];
  EXPECT_EQ(number.op, Op::kNumberEquals);
  EXPECT_EQ(number.operand, "007");
  EXPECT_EQ(number.value, "{{ x }}");
  EXPECT_FALSE(number.path.has_value());
  EXPECT_EQ(number.mark.line, 2);
  EXPECT_EQ(number.mark.column, 5);
  const Condition& hash = condition->children[1];
  EXPECT_EQ(hash.operand, "abc");
  EXPECT_EQ(hash.path, "/tmp/f");
  EXPECT_FALSE(hash.value.has_value());
}

TEST(ConditionParseTest, UnknownKeySuggestsTheClosestName) {
  EXPECT_EQ(errors("stringEqual: a\nvalue: b"),
            (Strings{"c.yml:1:1: unknown key 'stringEqual' in condition (did you mean "
                     "'stringEquals'?)"}));
  EXPECT_EQ(errors("stringEquals: a\nValue: b"),
            (Strings{"c.yml:2:1: unknown key 'Value' in condition (did you mean 'value'?)",
                     "c.yml:1:1: 'stringEquals' needs a 'value' to compare with"}));
  EXPECT_EQ(errors("frobnicate: a"), (Strings{"c.yml:1:1: unknown key 'frobnicate' in condition"}));
}

TEST(ConditionParseTest, NotAMap) {
  EXPECT_EQ(errors("stringEquals"),
            (Strings{"c.yml:1:1: a condition must be a map with one operator, not a string"}));
  EXPECT_EQ(errors("- stringEquals: a\n  value: a"),
            (Strings{"c.yml:1:1: a condition must be a map with one operator, not a list"}));
  EXPECT_EQ(errors("~"),
            (Strings{"c.yml:1:1: a condition must be a map with one operator, not null"}));
}

TEST(ConditionParseTest, NoOperator) {
  EXPECT_EQ(errors("value: a"), (Strings{"c.yml:1:1: condition has no operator"}));
  EXPECT_EQ(errors("x: {}"), (Strings{"c.yml:1:1: unknown key 'x' in condition"}));
  EXPECT_EQ(errors("and:\n  - {}"), (Strings{"c.yml:2:5: condition has no operator"}));
}

TEST(ConditionParseTest, MoreThanOneOperator) {
  EXPECT_EQ(errors("stringEquals: a\nnumberEquals: 1\nvalue: a"),
            (Strings{"c.yml:2:1: more than one operator in condition ('stringEquals' and "
                     "'numberEquals'); combine them with 'and' or 'or'"}));
}

TEST(ConditionParseTest, MissingValueOrPath) {
  EXPECT_EQ(errors("stringEquals: a"),
            (Strings{"c.yml:1:1: 'stringEquals' needs a 'value' to compare with"}));
  EXPECT_EQ(errors("x:\n  numberLessThan: 1"),
            (Strings{"c.yml:1:1: unknown key 'x' in condition"}));
  EXPECT_EQ(errors("not:\n  numberLessThan: 1"),
            (Strings{"c.yml:2:3: 'numberLessThan' needs a 'value' to compare with"}));
  EXPECT_EQ(errors("fileSHA256Equals: abc"),
            (Strings{"c.yml:1:1: 'fileSHA256Equals' needs the 'path' of the file to hash"}));
  EXPECT_EQ(errors("booleanEquals: true"),
            (Strings{"c.yml:1:1: 'booleanEquals' needs a 'value' to compare with"}));
}

TEST(ConditionParseTest, ValueOrPathWhereNotAllowed) {
  EXPECT_EQ(errors("fileExists: /a\nvalue: b"),
            (Strings{"c.yml:2:1: 'value' is not allowed with 'fileExists'"}));
  EXPECT_EQ(errors("stringIsEmpty: ''\n\nvalue: b"),
            (Strings{"c.yml:3:1: 'value' is not allowed with 'stringIsEmpty'"}));
  EXPECT_EQ(errors("stringEquals: a\nvalue: a\npath: /p"),
            (Strings{"c.yml:3:1: 'path' is not allowed with 'stringEquals'"}));
  EXPECT_EQ(errors("fileMD5Equals: a\nvalue: a\npath: /p"),
            (Strings{"c.yml:2:1: 'value' is not allowed with 'fileMD5Equals'"}));
  EXPECT_EQ(errors("and: [{stringIsEmpty: ''}]\nvalue: x"),
            (Strings{"c.yml:2:1: 'value' is not allowed with 'and'"}));
}

TEST(ConditionParseTest, WrongNodeTypes) {
  EXPECT_EQ(errors("and:\n  stringIsEmpty: ''"),
            (Strings{"c.yml:2:3: 'and' must be a list of conditions, not a map"}));
  EXPECT_EQ(errors("or: abc"),
            (Strings{"c.yml:1:5: 'or' must be a list of conditions, not a string"}));
  EXPECT_EQ(errors("and:\nvalue: x"),
            (Strings{"c.yml:1:1: 'and' must be a list of conditions, not null",
                     "c.yml:2:1: 'value' is not allowed with 'and'"}));
  EXPECT_EQ(errors("not:\n  - stringIsEmpty: ''"),
            (Strings{"c.yml:2:3: 'not' must be a condition (a map), not a list"}));
  EXPECT_EQ(errors("and: [a, [b]]"),
            (Strings{"c.yml:1:7: a condition must be a map with one operator, not a string",
                     "c.yml:1:10: a condition must be a map with one operator, not a list"}));
  EXPECT_EQ(errors("stringEquals: [a]\nvalue: {b: c}"),
            (Strings{"c.yml:1:15: 'stringEquals' must be a string, number or boolean, not a list",
                     "c.yml:2:8: 'value' must be a string, number or boolean, not a map"}));
  EXPECT_EQ(errors("stringIsEmpty:"),
            (Strings{"c.yml:1:1: 'stringIsEmpty' must be a string, number or boolean, not null"}));
  EXPECT_EQ(errors("fileExists: ~"),
            (Strings{"c.yml:1:1: 'fileExists' must be a string, number or boolean, not null"}));
  EXPECT_EQ(errors("[a]: b"), (Strings{"c.yml:1:1: condition keys must be strings, not a list"}));
}

TEST(ConditionParseTest, EmptyLists) {
  EXPECT_EQ(errors("and: []"), (Strings{"c.yml:1:6: 'and' needs at least one condition"}));
  EXPECT_EQ(errors("not:\n  or: []"), (Strings{"c.yml:2:7: 'or' needs at least one condition"}));
}

TEST(ConditionParseTest, DuplicateKeys) {
  EXPECT_EQ(errors("stringEquals: a\nvalue: a\nvalue: b"),
            (Strings{"c.yml:3:1: duplicate key 'value' in condition"}));
}

TEST(ConditionParseTest, InvalidLiteralPatternIsAValidationError) {
  EXPECT_EQ(errors("patternMatches: '(a)\\1'\nvalue: aa"),
            (Strings{"c.yml:1:17: invalid pattern in 'patternMatches': invalid escape sequence: "
                     "\\1"}));
  EXPECT_EQ(errors("patternMatches: 'a('\nvalue: aa"),
            (Strings{"c.yml:1:17: invalid pattern in 'patternMatches': missing ): a("}));
  EXPECT_TRUE(parse("patternMatches: '{{ p }}('\nvalue: aa").has_value());
}

TEST(ConditionParseTest, CollectsEveryProblem) {
  const std::string yaml =
      "or:\n"
      "  - stringEqual: a\n"
      "  - numberEquals: 1\n"
      "  - and: {}\n"
      "  - fileExists: /x\n"
      "    path: /y\n";
  EXPECT_EQ(errors(yaml),
            (Strings{"c.yml:2:5: unknown key 'stringEqual' in condition (did you mean "
                     "'stringEquals'?)",
                     "c.yml:3:5: 'numberEquals' needs a 'value' to compare with",
                     "c.yml:4:10: 'and' must be a list of conditions, not a map",
                     "c.yml:6:5: 'path' is not allowed with 'fileExists'"}));
}

TEST(ConditionParseTest, UndefinedNodeDoesNotThrow) {
  YAML::Node document = YAML::Load("a: 1");
  const YAML::Node& const_document = document;
  Diagnostics diagnostics;
  EXPECT_FALSE(parse_condition(const_document["missing"], "c.yml", diagnostics).has_value());
  EXPECT_FALSE(parse_conditional(YAML::Node(), "c.yml", diagnostics).has_value());
  EXPECT_EQ(diagnostics.size(), 2u);
  EXPECT_EQ(format_diagnostic(diagnostics[0]),
            "c.yml: a condition must be a map with one operator, not nothing");
}

// ----------------------------------------------------------------------------------------------
// then / else

TEST(ConditionalTest, DefaultsToExecuteOrSkip) {
  Diagnostics diagnostics;
  std::optional<Conditional> conditional =
      parse_conditional(YAML::Load("fileExists: /x"), "c.yml", diagnostics);
  ASSERT_TRUE(conditional.has_value());
  EXPECT_EQ(conditional->expression.op, Op::kFileExists);
  EXPECT_EQ(conditional->then_branch, Branch::kExecute);
  EXPECT_EQ(conditional->else_branch, Branch::kSkip);
}

TEST(ConditionalTest, ParsesThenAndElse) {
  const std::pair<std::string, Branch> cases[] = {
      {"Abort", Branch::kAbort}, {"Execute", Branch::kExecute}, {"Skip", Branch::kSkip}};
  for (const auto& [then_name, then_branch] : cases) {
    for (const auto& [else_name, else_branch] : cases) {
      Diagnostics diagnostics;
      std::optional<Conditional> conditional = parse_conditional(
          YAML::Load("then: " + then_name + "\nstringIsEmpty: ''\nelse: " + else_name),
          "c.yml",
          diagnostics);
      ASSERT_TRUE(conditional.has_value()) << then_name << " " << else_name;
      EXPECT_EQ(conditional->then_branch, then_branch);
      EXPECT_EQ(conditional->else_branch, else_branch);
    }
  }
}

TEST(ConditionalTest, BranchValuesAreExact) {
  EXPECT_EQ(if_errors("fileExists: /x\nthen: abort\nelse: [Skip]"),
            (Strings{"c.yml:2:7: 'then' must be Abort, Execute or Skip, not 'abort'",
                     "c.yml:3:7: 'else' must be Abort, Execute or Skip, not a list"}));
  EXPECT_EQ(if_errors("fileExists: /x\nthen:"),
            (Strings{"c.yml:2:1: 'then' must be Abort, Execute or Skip, not null"}));
}

TEST(ConditionalTest, BranchesOnlyAtTheTopOfAnIf) {
  EXPECT_EQ(errors("fileExists: /x\nthen: Abort"),
            (Strings{"c.yml:2:1: 'then' is only allowed at the top level of an 'if'"}));
  EXPECT_EQ(if_errors("not:\n  fileExists: /x\n  else: Abort"),
            (Strings{"c.yml:3:3: 'else' is only allowed at the top level of an 'if'"}));
}

TEST(ConditionalTest, ReportsBranchAndExpressionProblemsTogether) {
  EXPECT_EQ(if_errors("then: Run\nstringEquals: a"),
            (Strings{"c.yml:2:1: 'stringEquals' needs a 'value' to compare with",
                     "c.yml:1:7: 'then' must be Abort, Execute or Skip, not 'Run'"}));
  EXPECT_EQ(if_errors("then: Abort\nelse: Skip"),
            (Strings{"c.yml:1:1: condition has no operator"}));
}

// ----------------------------------------------------------------------------------------------
// describe

TEST(ConditionDescribeTest, RendersJson) {
  std::optional<Condition> condition = parse(
      "and:\n"
      "  - stringEquals: 'a\"b\\c'\n"
      "    value: \"line\\nnext\\x01\"\n"
      "  - not:\n"
      "      fileSHA1Equals: abc\n"
      "      path: /f\n"
      "  - binaryExists: dnf\n");
  ASSERT_TRUE(condition.has_value());
  EXPECT_EQ(describe(*condition),
            "{\"and\":[{\"stringEquals\":\"a\\\"b\\\\c\",\"value\":\"line\\nnext\\u0001\"},"
            "{\"not\":{\"fileSHA1Equals\":\"abc\",\"path\":\"/f\"}},{\"binaryExists\":\"dnf\"}]}");
}

TEST(ConditionDescribeTest, RoundTripsThroughYaml) {
  std::optional<Condition> condition = parse(
      "or:\n"
      "  - numberLessThan: 1.50\n"
      "    value: \"\\t{{ x }}\\\\\"\n"
      "  - patternMatches: '^\\d+$'\n"
      "    value: '\u00e9'\n");
  ASSERT_TRUE(condition.has_value());
  std::optional<Condition> again = parse(describe(*condition));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(describe(*again), describe(*condition));
}

// ----------------------------------------------------------------------------------------------
// SystemProbe, on a temporary directory

class SystemProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-condition-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
    file_ = (dir_->path() / "data.txt").string();
    ASSERT_TRUE(write_file(file_, "hello\n").ok());
  }

  std::string path(const std::string& name) const { return (dir_->path() / name).string(); }

  std::optional<TempDir> dir_;
  std::string file_;
  SystemProbe probe_;
};

TEST_F(SystemProbeTest, FileAndFolderExists) {
  std::error_code ec;
  std::filesystem::create_symlink(file_, path("link"), ec);
  ASSERT_FALSE(ec);
  std::filesystem::create_symlink(path("nowhere"), path("dangling"), ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(probe_.file_exists(file_));
  EXPECT_TRUE(probe_.file_exists(path("link")));
  EXPECT_FALSE(probe_.file_exists(path("dangling")));
  EXPECT_FALSE(probe_.file_exists(path("missing")));
  EXPECT_FALSE(probe_.file_exists(dir_->path().string()));
  EXPECT_FALSE(probe_.file_exists(""));
  EXPECT_TRUE(probe_.folder_exists(dir_->path().string()));
  EXPECT_FALSE(probe_.folder_exists(file_));
  EXPECT_FALSE(probe_.folder_exists(path("missing")));
  EXPECT_FALSE(probe_.folder_exists(""));
}

TEST_F(SystemProbeTest, FileHashes) {
  EXPECT_EQ(probe_.file_hash(file_, Op::kFileMd5Equals), "b1946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(probe_.file_hash(file_, Op::kFileSha1Equals),
            "f572d396fae9206628714fb2ce00f72e94f2258f");
  EXPECT_EQ(probe_.file_hash(file_, Op::kFileSha256Equals),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  EXPECT_EQ(probe_.file_hash(file_, Op::kFileSha512Equals),
            "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a3"
            "6e10f8bcb8d45223e54878f5b316e7ce3b6bc019629");
  EXPECT_EQ(probe_.file_hash(path("missing"), Op::kFileSha256Equals), std::nullopt);
  EXPECT_EQ(probe_.file_hash(dir_->path().string(), Op::kFileSha256Equals), std::nullopt);
  EXPECT_EQ(probe_.file_hash(file_, Op::kStringEquals), std::nullopt);
}

TEST_F(SystemProbeTest, BinaryExists) {
  ASSERT_TRUE(write_file(path("tool"), "#!/bin/sh\n", 0755).ok());
  ASSERT_TRUE(write_file(path("plain"), "", 0644).ok());
  EXPECT_TRUE(probe_.binary_exists(path("tool")));
  EXPECT_FALSE(probe_.binary_exists(path("plain")));
  EXPECT_TRUE(probe_.binary_exists("sh"));
  EXPECT_FALSE(probe_.binary_exists("kiln-no-such-binary-3f9a"));
  EXPECT_FALSE(probe_.binary_exists(""));
}

TEST_F(SystemProbeTest, EvaluatesThroughTheRealMachine) {
  auto check = [&](const std::string& yaml) {
    std::optional<Condition> condition = parse(yaml);
    return condition && evaluate(*condition, identity, probe_);
  };
  EXPECT_TRUE(check("fileExists: '" + file_ + "'"));
  EXPECT_TRUE(check("folderExists: '" + dir_->path().string() + "'"));
  EXPECT_TRUE(
      check("fileSHA256Equals: "
            "'5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03'\npath: '" +
            file_ + "'"));
  EXPECT_FALSE(check("fileMD5Equals: '00000000000000000000000000000000'\npath: '" + file_ + "'"));
}

}  // namespace
}  // namespace kiln::document
