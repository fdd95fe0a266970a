#pragma once

// Conditional expressions of the AWSTOE language: the `if` of a step and the inputs of `Assert`.
// Parsing (YAML -> Condition, with diagnostics) is separate from evaluation, which is pure except
// for the file-system probes behind the Probe interface.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/document/diagnostic.hpp"

namespace kiln::document {

enum class ConditionOp {
  // logical
  kAnd,
  kOr,
  kNot,
  // strings (case-insensitive)
  kStringIsEmpty,
  kStringIsWhitespace,
  kStringEquals,
  kStringLessThan,
  kStringLessThanEquals,
  kStringGreaterThan,
  kStringGreaterThanEquals,
  kPatternMatches,
  // numbers
  kNumberEquals,
  kNumberLessThan,
  kNumberLessThanEquals,
  kNumberGreaterThan,
  kNumberGreaterThanEquals,
  // files
  kBinaryExists,
  kFileExists,
  kFolderExists,
  kFileMd5Equals,
  kFileSha1Equals,
  kFileSha256Equals,
  kFileSha512Equals,
  // workflow documents only
  kBooleanEquals,
};

// The operator's name as written in documents ("stringEquals").
std::string_view condition_op_name(ConditionOp op);
std::optional<ConditionOp> parse_condition_op(std::string_view name);

// One node of an expression. Strings may contain {{ }} references, resolved at evaluation.
struct Condition {
  ConditionOp op = ConditionOp::kAnd;
  std::string operand;               // the operator's own argument (baseline, path, pattern...)
  std::optional<std::string> value;  // the compared value (`value:`), for binary comparisons
  std::optional<std::string> path;   // `path:` of the file-hash comparisons
  std::vector<Condition> children;   // and/or: several; not: one
  Mark mark;
};

enum class Branch { kExecute, kSkip, kAbort };

// A step's `if`: the expression plus what to do when it is true (`then`) or false (`else`).
struct Conditional {
  Condition expression;
  Branch then_branch = Branch::kExecute;
  Branch else_branch = Branch::kSkip;
};

// The deepest nesting of logical operators a document may use.
inline constexpr int kMaxLogicalDepth = 4;

// Parses an expression map (one operator plus its operands): the inputs of an `Assert`.
// parse_conditional parses an `if`, which may also hold `then` and `else`. Problems go to
// `diagnostics`; both return nullopt if there were any.
std::optional<Condition> parse_condition(const YAML::Node& node,
                                         const std::string& path,
                                         Diagnostics& diagnostics);
std::optional<Conditional> parse_conditional(const YAML::Node& node,
                                             const std::string& path,
                                             Diagnostics& diagnostics);

// What evaluation needs from the machine.
class Probe {
 public:
  virtual ~Probe() = default;
  virtual bool binary_exists(const std::string& name) const = 0;
  virtual bool file_exists(const std::string& path) const = 0;    // a regular file (or link to one)
  virtual bool folder_exists(const std::string& path) const = 0;  // a directory
  // Lower-case hex digest of the file, or nullopt if it cannot be read.
  virtual std::optional<std::string> file_hash(const std::string& path,
                                               ConditionOp algorithm) const = 0;
};

// The real machine: PATH lookup, stat, OpenSSL digests.
class SystemProbe final : public Probe {
 public:
  bool binary_exists(const std::string& name) const override;
  bool file_exists(const std::string& path) const override;
  bool folder_exists(const std::string& path) const override;
  std::optional<std::string> file_hash(const std::string& path,
                                       ConditionOp algorithm) const override;
};

// Resolves the {{ }} references in one string of the expression.
using StringResolver = std::function<std::string(const std::string&)>;

// Evaluates the expression. Numeric comparisons whose operands are not numbers are false.
bool evaluate(const Condition& condition, const StringResolver& resolve, const Probe& probe);

// Every string of the expression (operands, values, paths), for reference checking.
void for_each_string(const Condition& condition,
                     const std::function<void(const std::string&, Mark)>& fn);

// Renders the expression back to JSON-like text for logs: {"stringEquals":"a","value":"b"}.
std::string describe(const Condition& condition);

}  // namespace kiln::document
