// libFuzzer harness for the component document parser: arbitrary bytes as a whole AWSTOE
// document. Checks that parse_document never throws or crashes (yaml-cpp's exceptions must be
// caught inside it), that it returns a document exactly when it reports no problem, that every
// problem names the file, has a message and comes in source order, and that a document it accepts
// keeps the model's invariants (model.hpp), which the runner relies on without checking again.
//
// Build and run: see fuzz/README.md (CMake with -DKILN_BUILD_FUZZ=ON and clang).
//   ./document_fuzz -max_total_time=120 fuzz/corpus/document

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "kiln/document/modules.hpp"
#include "kiln/document/parser.hpp"
#include "kiln/document/reference.hpp"

namespace {

using kiln::document::Diagnostic;
using kiln::document::Document;
using kiln::document::InputShape;
using kiln::document::Loop;
using kiln::document::Phase;
using kiln::document::Step;

constexpr const char* kPath = "fuzz.yml";

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "document_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_diagnostics(const kiln::document::Diagnostics& diagnostics, const std::string& text) {
  std::pair<int, int> previous{0, 0};
  for (const Diagnostic& d : diagnostics) {
    std::string formatted = kiln::document::format_diagnostic(d);
    if (d.path != kPath || d.message.empty() || d.mark.line < 0 || d.mark.column < 0) {
      fail("malformed diagnostic", formatted);
    }
    std::pair<int, int> at{d.mark.line, d.mark.column};
    if (at < previous) {
      fail("diagnostics are not in source order", formatted);
    }
    previous = at;
    // The caret rendering must cope with any mark against any text.
    (void)kiln::document::format_diagnostic_with_source(d, text);
  }
}

void check_loop(const Loop& loop, const std::string& where) {
  switch (loop.kind) {
    case Loop::Kind::kFor: {
      bool reaches = loop.update_by != 0 &&
                     (loop.start == loop.end || (loop.end > loop.start) == (loop.update_by > 0));
      if (!reaches) {
        fail("accepted a for loop that never ends", where);
      }
      return;
    }
    case Loop::Kind::kForEachList:
      return;
    case Loop::Kind::kForEachDelimited:
      if (std::string_view(".,;:\n\t -_").find(loop.delimiter) == std::string_view::npos) {
        fail("accepted a delimiter outside the allowed set", where);
      }
      return;
  }
  fail("loop kind out of range", where);
}

void check_step(const Step& step, const std::string& where) {
  if (step.name.empty() || step.module == nullptr ||
      kiln::document::find_module(step.action) != step.module) {
    fail("accepted a step without a name or a known module", where);
  }
  if (step.timeout_seconds != kiln::document::kInfiniteTimeout && step.timeout_seconds <= 0) {
    fail("accepted a bad timeoutSeconds", where);
  }
  if (step.max_attempts < 1) {
    fail("accepted a bad maxAttempts", where);
  }
  switch (step.module->shape) {
    case InputShape::kObject:
      if (!step.inputs.is_object()) {
        fail("object-shaped inputs are not a JSON object", where);
      }
      break;
    case InputShape::kList:
      if (!step.inputs.is_array()) {
        fail("list-shaped inputs are not a JSON array", where);
      }
      break;
    case InputShape::kExpression:
      if (!step.assertion) {
        fail("accepted an Assert step without an expression", where);
      }
      break;
  }
  if (step.loop) {
    check_loop(*step.loop, where);
  }
}

void check_document(const Document& doc, const std::string& text) {
  if (doc.path != kPath || doc.text != text || doc.schema_version != "1.0" || doc.phases.empty()) {
    fail("accepted document lost its path, text, schemaVersion or phases", doc.path);
  }
  for (const Phase& phase : doc.phases) {
    if (phase.name.empty() || phase.steps.empty()) {
      fail("accepted a phase without a name or steps", phase.name);
    }
    for (const Step& step : phase.steps) {
      check_step(step, phase.name + "." + step.name);
    }
  }
  for (const auto& parameter : doc.parameters) {
    if (!kiln::document::is_valid_variable_name(parameter.name)) {
      fail("accepted an invalid parameter name", parameter.name);
    }
  }
  for (const auto& constant : doc.constants) {
    if (!kiln::document::is_valid_variable_name(constant.name)) {
      fail("accepted an invalid constant name", constant.name);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  kiln::document::ParseResult result = kiln::document::parse_document(text, kPath);
  if (result.document.has_value() == !result.diagnostics.empty()) {
    fail("document is set but there are diagnostics, or neither",
         std::to_string(result.diagnostics.size()));
  }
  check_diagnostics(result.diagnostics, text);
  if (result.document) {
    check_document(*result.document, text);
  }
  // The template splitter and renderer take any text.
  kiln::document::ReferenceResolver resolve = [](const kiln::document::Reference& ref) {
    return ref.kind == kiln::document::Reference::Kind::kVariable ? std::optional<std::string>("v")
                                                                  : std::nullopt;
  };
  (void)kiln::document::render_template(text, resolve);
  return 0;
}
