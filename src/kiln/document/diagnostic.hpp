#pragma once

// A problem found in a user's document, always with where it is.

#include <string>
#include <vector>

namespace kiln::document {

// A position in a document: 1-based line and column; 0 means unknown.
struct Mark {
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  std::string path;  // the document's file path as the user gave it
  Mark mark;
  std::string message;
};

// "path:line:column: message", or "path: message" when the mark is unknown (an unreadable file).
std::string format_diagnostic(const Diagnostic& diagnostic);

// format_diagnostic, then the offending source line and a caret under the column (ninja-style),
// when `source` holds the document's text and the mark is known.
std::string format_diagnostic_with_source(const Diagnostic& diagnostic, const std::string& source);

using Diagnostics = std::vector<Diagnostic>;

}  // namespace kiln::document
