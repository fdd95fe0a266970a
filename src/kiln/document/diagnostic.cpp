#include "kiln/document/diagnostic.hpp"

#include <fmt/format.h>

#include "kiln/base/strings.hpp"

namespace kiln::document {

std::string format_diagnostic(const Diagnostic& d) {
  if (d.mark.line <= 0) {
    return fmt::format("{}: {}", d.path, d.message);  // not about a place in the document
  }
  return fmt::format("{}:{}:{}: {}", d.path, d.mark.line, d.mark.column, d.message);
}

std::string format_diagnostic_with_source(const Diagnostic& d, const std::string& source) {
  std::string out = format_diagnostic(d);
  if (d.mark.line <= 0) {
    return out;
  }
  std::vector<std::string> lines = split(source, '\n');
  if (static_cast<size_t>(d.mark.line) > lines.size()) {
    return out;
  }
  const std::string& line = lines[static_cast<size_t>(d.mark.line - 1)];
  out += "\n  " + line + "\n  ";
  for (int i = 1; i < d.mark.column && static_cast<size_t>(i - 1) < line.size(); ++i) {
    out += line[static_cast<size_t>(i - 1)] == '\t' ? '\t' : ' ';
  }
  out += '^';
  return out;
}

}  // namespace kiln::document
