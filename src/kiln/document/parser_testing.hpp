#pragma once

// Helpers shared by parser_test.cpp and parser_errors_test.cpp: documents written as raw strings,
// parsed into a model or into formatted diagnostics.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kiln/document/parser.hpp"

namespace kiln::document::parser_test {

// Documents are written as raw strings that start on the line after R"(, so the first line of
// the string is line 1 of the document.
inline std::string doc(const char* text) {
  std::string s = text;
  if (!s.empty() && s.front() == '\n') {
    s.erase(0, 1);
  }
  return s;
}

inline std::vector<std::string> formatted(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) {
    out.push_back(format_diagnostic(d));
  }
  return out;
}

// Parses a document that must be valid.
inline Document parse_ok(const std::string& text) {
  ParseResult result = parse_document(text, "doc.yml");
  EXPECT_THAT(formatted(result.diagnostics), ::testing::IsEmpty()) << text;
  EXPECT_TRUE(result.document.has_value());
  return result.document.value_or(Document{});
}

// Parses a document that must be invalid; returns "doc.yml:LINE:COLUMN: message" for each
// problem, in the order reported.
inline std::vector<std::string> errors(const std::string& text) {
  ParseResult result = parse_document(text, "doc.yml");
  EXPECT_FALSE(result.document.has_value()) << text;
  EXPECT_FALSE(result.diagnostics.empty()) << text;
  for (const Diagnostic& d : result.diagnostics) {
    EXPECT_EQ(d.path, "doc.yml");
  }
  return formatted(result.diagnostics);
}

// A one-phase document around `steps`, which are indented for `steps:` and start on line 5.
inline std::string with_steps(const char* steps) {
  return "schemaVersion: 1.0\n"
         "phases:\n"
         "  - name: build\n"
         "    steps:\n" +
         doc(steps);
}

}  // namespace kiln::document::parser_test
