#pragma once

// Parsing and validation of component documents in one pass: YAML syntax, schema, fields and
// their types, names, loops, conditionals and references. Every problem is reported, each with
// file:line:column; a model is returned only when there are none.

#include <optional>
#include <string>

#include "kiln/base/result.hpp"
#include "kiln/document/model.hpp"

namespace kiln::document {

struct ParseResult {
  std::optional<Document> document;  // set iff diagnostics is empty
  Diagnostics diagnostics;
};

// Parses `text`; `path` is used only in diagnostics and Document::path.
ParseResult parse_document(const std::string& text, const std::string& path);

// Reads and parses a file. A file that cannot be read is one diagnostic at 0:0.
ParseResult parse_document_file(const std::string& path);

}  // namespace kiln::document
