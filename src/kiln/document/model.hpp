#pragma once

// The typed model of an AWSTOE component document. The parser builds it only from a document
// that validated cleanly, so the runner can rely on every invariant stated here.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/document/condition.hpp"
#include "kiln/document/diagnostic.hpp"
#include "kiln/document/modules.hpp"

namespace kiln::document {

using Json = nlohmann::ordered_json;

inline constexpr int64_t kDefaultTimeoutSeconds = 7200;
inline constexpr int64_t kInfiniteTimeout = -1;
// A `for` loop may run at most this many iterations (a guard against runaway ranges).
inline constexpr uint64_t kMaxLoopIterations = 100000;

enum class OnFailure { kAbort, kContinue, kIgnore };
std::string_view on_failure_name(OnFailure value);  // "Abort", "Continue", "Ignore"

struct Parameter {
  std::string name;
  std::string type;                          // "string"
  std::optional<std::string> default_value;  // none: the parameter is required
  std::string description;
  Mark mark;
};

struct Constant {
  std::string name;
  std::string type;  // "string"
  std::string value;
  Mark mark;
};

struct Loop {
  enum class Kind { kFor, kForEachList, kForEachDelimited };
  std::string name;  // "" when unnamed
  Kind kind = Kind::kFor;
  int64_t start = 0;  // kFor: inclusive range with a non-zero step that reaches `end`
  int64_t end = 0;
  int64_t update_by = 1;
  std::vector<std::string> items;  // kForEachList; strings may hold {{ }}
  std::string list;                // kForEachDelimited; may hold {{ }}, evaluated once
  char delimiter = ',';            // kForEachDelimited
  Mark mark;
};

// The number of iterations of a `for` loop whose step reaches its end (computed without
// overflow for any int64 bounds).
uint64_t iteration_count(const Loop& loop);

struct Step {
  std::string name;
  std::string action;  // a name find_module() knows
  const ModuleSpec* module = nullptr;
  int64_t timeout_seconds = kDefaultTimeoutSeconds;  // kInfiniteTimeout or > 0
  OnFailure on_failure = OnFailure::kAbort;
  int max_attempts = 1;  // >= 1
  std::optional<Conditional> condition;
  std::optional<Loop> loop;
  bool disable_logging = false;
  // The inputs as typed JSON: an object (kObject), an array of objects (kList) or, for Assert, the
  // expression as written. Bool and int fields are JSON bools and numbers unless they hold a
  // {{ }} reference, in which case they stay strings and are converted after resolution.
  Json inputs;
  std::optional<Condition> assertion;  // Assert: the parsed expression
  Mark mark;
};

struct Phase {
  std::string name;
  std::vector<Step> steps;
  Mark mark;
};

struct Document {
  std::string path;  // as given by the user
  std::string text;  // the document's source, written to document.yaml and used for carets
  std::string name;
  std::string description;
  std::string schema_version;
  std::vector<Parameter> parameters;
  std::vector<Constant> constants;
  std::vector<Phase> phases;
};

}  // namespace kiln::document
