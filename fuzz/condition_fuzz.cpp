// libFuzzer harness for the AWSTOE conditional expressions: arbitrary bytes as the YAML of a
// step's `if`. Checks that parsing never throws or crashes, that it fails exactly when it reports
// a problem, that every problem names the file, and that an expression it accepts evaluates and
// renders, and its rendering parses back to the same expression.
//
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I src
//          fuzz/condition_fuzz.cpp src/kiln/document/{condition,diagnostic}.cpp
//          src/kiln/base/*.cpp src/kiln/os/process.cpp -lyaml-cpp -lre2 -lfmt -lcrypto
// Run:   ./condition_fuzz -max_total_time=60 fuzz/corpus/condition

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "kiln/document/condition.hpp"

namespace {

using kiln::document::Condition;
using kiln::document::Conditional;
using kiln::document::ConditionOp;
using kiln::document::Diagnostic;
using kiln::document::Diagnostics;
using kiln::document::Mark;

// A machine decided by the names alone, so runs are reproducible and both answers are reachable.
class FuzzProbe final : public kiln::document::Probe {
 public:
  bool binary_exists(const std::string& name) const override { return name.size() % 2 == 0; }
  bool file_exists(const std::string& path) const override { return path.size() % 3 == 0; }
  bool folder_exists(const std::string& path) const override { return path.size() % 3 == 1; }
  std::optional<std::string> file_hash(const std::string& path, ConditionOp) const override {
    if (path.empty()) {
      return std::nullopt;
    }
    return path;  // `fileMD5Equals: x` with `path: x` holds
  }
};

// yaml-cpp reports malformed YAML by throwing; that is the input's fault, not a finding.
std::optional<YAML::Node> load(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "condition_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_diagnostics(const Diagnostics& diagnostics) {
  for (const Diagnostic& d : diagnostics) {
    if (d.path != "fuzz.yml" || d.message.empty() || d.mark.line < 0 || d.mark.column < 0) {
      fail("malformed diagnostic", kiln::document::format_diagnostic(d));
    }
  }
}

// describe() renders JSON, which is YAML: it must read back as the same expression.
void check_round_trip(const Condition& condition) {
  std::string described = kiln::document::describe(condition);
  std::optional<YAML::Node> node = load(described);
  if (!node) {
    fail("describe() output is not YAML", described);
  }
  Diagnostics diagnostics;
  std::optional<Condition> again = kiln::document::parse_condition(*node, "fuzz.yml", diagnostics);
  if (!again) {
    fail("describe() output does not parse", described + "\n" + diagnostics[0].message);
  }
  if (kiln::document::describe(*again) != described) {
    fail("describe() does not round-trip", described);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<YAML::Node> node = load(std::string(reinterpret_cast<const char*>(data), size));
  if (!node) {
    return 0;
  }
  Diagnostics diagnostics;
  std::optional<Conditional> conditional =
      kiln::document::parse_conditional(*node, "fuzz.yml", diagnostics);
  if (conditional.has_value() != diagnostics.empty()) {
    fail("parse result and diagnostics disagree", std::to_string(diagnostics.size()));
  }
  check_diagnostics(diagnostics);
  if (!conditional) {
    return 0;
  }
  FuzzProbe probe;
  kiln::document::StringResolver identity = [](const std::string& text) { return text; };
  (void)kiln::document::evaluate(conditional->expression, identity, probe);
  size_t strings = 0;
  kiln::document::for_each_string(conditional->expression,
                                  [&](const std::string&, Mark) { ++strings; });
  (void)strings;
  check_round_trip(conditional->expression);
  return 0;
}
