#include "kiln/document/condition.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "kiln/base/hash.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/document/compare.hpp"
#include "kiln/os/process.hpp"

// Decisions where AWS documents nothing (each is pinned by a test in condition_test.cpp):
// - Scalars are strings: `numberEquals: 1.50` keeps the text "1.50"; YAML null (`~`, `null`, an
//   empty value) is not a string and is rejected.
// - String ordering folds ASCII letters to lower case, then compares bytes (code points for
//   UTF-8); letters outside ASCII compare case-sensitively.
// - stringIsWhitespace uses Go's unicode.IsSpace set and is false for the empty string.
// - patternMatches is case-sensitive like Go's regexp.MatchString (write `(?i)` to fold case).
//   A literal pattern that does not compile is a validation error; a pattern that only fails
//   after {{ }} resolution evaluates to false.
// - Numbers compare exactly as decimals, however many digits they have.
// - booleanEquals parses both sides like Go's strconv.ParseBool, ignoring case; anything else
//   evaluates to false.
// - binaryExists is a $PATH lookup (or an executable path when the name has a '/'); shell
//   builtins, functions and aliases that `type` would also find are not.
// - A logical operator nested deeper than kMaxLogicalDepth is reported once and not descended
//   into, which also bounds YAML alias cycles (`&a {not: *a}`). An expression may hold at most
//   kMaxExpressions operators in all, which bounds alias fan-out ("billion laughs").

namespace kiln::document {
namespace {

constexpr int kMaxExpressions = 1000;

// ---------------------------------------------------------------------------------------------
// Evaluation primitives

struct Evaluation {
  const StringResolver& resolve;
  const Probe& probe;

  std::string resolved(const std::string& text) const { return resolve ? resolve(text) : text; }
};

bool evaluate_node(const Condition& condition, const Evaluation& ev);

std::optional<HashAlgorithm> hash_algorithm(ConditionOp op) {
  static constexpr std::pair<ConditionOp, HashAlgorithm> kHashes[] = {
      {ConditionOp::kFileMd5Equals, HashAlgorithm::kMd5},
      {ConditionOp::kFileSha1Equals, HashAlgorithm::kSha1},
      {ConditionOp::kFileSha256Equals, HashAlgorithm::kSha256},
      {ConditionOp::kFileSha512Equals, HashAlgorithm::kSha512}};
  for (const auto& [hash_op, algorithm] : kHashes) {
    if (hash_op == op) {
      return algorithm;
    }
  }
  return std::nullopt;
}

std::unique_ptr<RE2> compile_pattern(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

// ---------------------------------------------------------------------------------------------
// The operator table: one row per ConditionOp, in enum order.

// How an operator takes its arguments.
enum class Shape {
  kList,      // and, or: a list of expressions
  kSingle,    // not: one expression
  kUnary,     // a scalar; no `value`, no `path`
  kCompare,   // a scalar baseline plus `value`
  kFileHash,  // an expected digest plus `path`
};

// What a comparison result (value against baseline) must be for the operator to hold.
enum class Relation { kNone, kEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

using Evaluator = bool (*)(const Condition&, const Evaluation&);

struct OpInfo {
  ConditionOp op;
  std::string_view name;
  Shape shape;
  Relation relation;
  Evaluator evaluate;
};

const OpInfo& info(ConditionOp op);

bool holds(Relation relation, int cmp) {
  switch (relation) {
    case Relation::kEqual:
      return cmp == 0;
    case Relation::kLess:
      return cmp < 0;
    case Relation::kLessEqual:
      return cmp <= 0;
    case Relation::kGreater:
      return cmp > 0;
    case Relation::kGreaterEqual:
      return cmp >= 0;
    case Relation::kNone:
      break;
  }
  return false;
}

bool eval_and(const Condition& c, const Evaluation& ev) {
  for (const Condition& child : c.children) {
    if (!evaluate_node(child, ev)) {
      return false;
    }
  }
  return true;
}

bool eval_or(const Condition& c, const Evaluation& ev) {
  for (const Condition& child : c.children) {
    if (evaluate_node(child, ev)) {
      return true;
    }
  }
  return false;
}

bool eval_not(const Condition& c, const Evaluation& ev) {
  return c.children.size() == 1 && !evaluate_node(c.children[0], ev);
}

bool eval_string_is_empty(const Condition& c, const Evaluation& ev) {
  return ev.resolved(c.operand).empty();
}

bool eval_string_is_whitespace(const Condition& c, const Evaluation& ev) {
  return is_whitespace(ev.resolved(c.operand));
}

bool eval_string_compare(const Condition& c, const Evaluation& ev) {
  if (!c.value) {
    return false;
  }
  int cmp = compare_ignoring_ascii_case(ev.resolved(*c.value), ev.resolved(c.operand));
  return holds(info(c.op).relation, cmp);
}

bool eval_pattern(const Condition& c, const Evaluation& ev) {
  if (!c.value) {
    return false;
  }
  std::unique_ptr<RE2> re = compile_pattern(ev.resolved(c.operand));
  return re->ok() && RE2::PartialMatch(ev.resolved(*c.value), *re);
}

bool eval_number_compare(const Condition& c, const Evaluation& ev) {
  if (!c.value) {
    return false;
  }
  std::string baseline = ev.resolved(c.operand);
  std::string value = ev.resolved(*c.value);
  std::optional<int> cmp = compare_numbers(value, baseline);
  return cmp && holds(info(c.op).relation, *cmp);
}

bool eval_binary_exists(const Condition& c, const Evaluation& ev) {
  return ev.probe.binary_exists(ev.resolved(c.operand));
}

bool eval_file_exists(const Condition& c, const Evaluation& ev) {
  return ev.probe.file_exists(ev.resolved(c.operand));
}

bool eval_folder_exists(const Condition& c, const Evaluation& ev) {
  return ev.probe.folder_exists(ev.resolved(c.operand));
}

bool eval_file_hash(const Condition& c, const Evaluation& ev) {
  if (!c.path) {
    return false;
  }
  std::optional<std::string> digest = ev.probe.file_hash(ev.resolved(*c.path), c.op);
  return digest && iequals(*digest, ev.resolved(c.operand));
}

bool eval_boolean_equals(const Condition& c, const Evaluation& ev) {
  if (!c.value) {
    return false;
  }
  std::optional<bool> baseline = parse_go_bool(ev.resolved(c.operand));
  std::optional<bool> value = parse_go_bool(ev.resolved(*c.value));
  return baseline && value && *baseline == *value;
}

using enum ConditionOp;
using enum Shape;
using enum Relation;

constexpr OpInfo kOps[] = {
    {kAnd, "and", kList, kNone, eval_and},
    {kOr, "or", kList, kNone, eval_or},
    {kNot, "not", kSingle, kNone, eval_not},
    {kStringIsEmpty, "stringIsEmpty", kUnary, kNone, eval_string_is_empty},
    {kStringIsWhitespace, "stringIsWhitespace", kUnary, kNone, eval_string_is_whitespace},
    {kStringEquals, "stringEquals", kCompare, kEqual, eval_string_compare},
    {kStringLessThan, "stringLessThan", kCompare, kLess, eval_string_compare},
    {kStringLessThanEquals, "stringLessThanEquals", kCompare, kLessEqual, eval_string_compare},
    {kStringGreaterThan, "stringGreaterThan", kCompare, kGreater, eval_string_compare},
    {kStringGreaterThanEquals,
     "stringGreaterThanEquals",
     kCompare,
     kGreaterEqual,
     eval_string_compare},
    {kPatternMatches, "patternMatches", kCompare, kNone, eval_pattern},
    {kNumberEquals, "numberEquals", kCompare, kEqual, eval_number_compare},
    {kNumberLessThan, "numberLessThan", kCompare, kLess, eval_number_compare},
    {kNumberLessThanEquals, "numberLessThanEquals", kCompare, kLessEqual, eval_number_compare},
    {kNumberGreaterThan, "numberGreaterThan", kCompare, kGreater, eval_number_compare},
    {kNumberGreaterThanEquals,
     "numberGreaterThanEquals",
     kCompare,
     kGreaterEqual,
     eval_number_compare},
    {kBinaryExists, "binaryExists", kUnary, kNone, eval_binary_exists},
    {kFileExists, "fileExists", kUnary, kNone, eval_file_exists},
    {kFolderExists, "folderExists", kUnary, kNone, eval_folder_exists},
    {kFileMd5Equals, "fileMD5Equals", kFileHash, kNone, eval_file_hash},
    {kFileSha1Equals, "fileSHA1Equals", kFileHash, kNone, eval_file_hash},
    {kFileSha256Equals, "fileSHA256Equals", kFileHash, kNone, eval_file_hash},
    {kFileSha512Equals, "fileSHA512Equals", kFileHash, kNone, eval_file_hash},
    {kBooleanEquals, "booleanEquals", kCompare, kEqual, eval_boolean_equals},
};

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kOps); ++i) {
    if (static_cast<size_t>(kOps[i].op) != i) {
      return false;
    }
  }
  return std::size(kOps) == static_cast<size_t>(kBooleanEquals) + 1;
}
static_assert(table_in_enum_order(), "kOps must list every ConditionOp in enum order");

const OpInfo& info(ConditionOp op) {
  size_t index = static_cast<size_t>(op);
  return kOps[index < std::size(kOps) ? index : 0];
}

bool is_valid(ConditionOp op) {
  return static_cast<size_t>(op) < std::size(kOps);
}

bool evaluate_node(const Condition& condition, const Evaluation& ev) {
  return is_valid(condition.op) && info(condition.op).evaluate(condition, ev);
}

// ---------------------------------------------------------------------------------------------
// Parsing

Mark to_mark(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

Mark mark_of(const YAML::Node& node) {
  try {
    return node.IsDefined() ? to_mark(node.Mark()) : Mark{};
  } catch (const std::exception&) {
    return {};
  }
}

std::string_view type_name(const YAML::Node& node) {
  if (!node.IsDefined()) {
    return "nothing";
  }
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// One key of an expression map with its value.
struct Entry {
  std::string key;
  Mark mark;  // of the key
  YAML::Node value;

  // Where to point at the value: an empty value's own mark is the next token, so use the key's.
  Mark value_mark() const { return value.IsNull() ? mark : mark_of(value); }
};

// The keys of one expression map, sorted by role.
struct Keys {
  std::vector<Entry> operators;
  std::optional<Entry> value;
  std::optional<Entry> path;
  std::vector<Entry> branches;  // then, else
  bool unknown = false;         // an unknown or non-string key was reported
};

class Parser {
 public:
  Parser(const std::string& path, Diagnostics& diagnostics)
      : path_(path), diagnostics_(diagnostics) {}

  std::optional<Condition> expression(const YAML::Node& node,
                                      int depth,
                                      std::vector<Entry>* branches);
  void branch(const Entry& entry, Conditional& conditional);
  size_t error_count() const { return diagnostics_.size(); }
  void error(Mark mark, std::string message) {
    diagnostics_.push_back({path_, mark, std::move(message)});
  }

 private:
  bool take_budget(Mark mark);
  Keys collect_keys(const YAML::Node& node, bool allow_branches);
  void classify_key(Entry entry, bool allow_branches, Keys& keys);
  void unknown_key(const Entry& entry);
  std::optional<Condition> operation(const Entry& entry, int depth);
  bool logical_list(const Entry& entry, int depth, Condition& condition);
  bool logical_single(const Entry& entry, int depth, Condition& condition);
  bool check_depth(const Entry& entry, int depth);
  std::optional<std::string> scalar(const Entry& entry);
  void check_pattern(const Entry& entry, const std::string& pattern);
  void companions(const Keys& keys, Condition& condition);
  void companion(const std::optional<Entry>& entry,
                 std::string_view key,
                 bool wanted,
                 const Condition& condition,
                 std::optional<std::string>& out);

  const std::string& path_;
  Diagnostics& diagnostics_;
  int expressions_ = 0;
};

bool Parser::take_budget(Mark mark) {
  if (++expressions_ == kMaxExpressions + 1) {
    error(mark, fmt::format("condition is too large (more than {} operators)", kMaxExpressions));
  }
  return expressions_ <= kMaxExpressions;
}

// Parses an expression map whose logical operators are nested `depth` deep. With `branches`,
// `then` and `else` are accepted and handed back there; otherwise they are errors.
std::optional<Condition> Parser::expression(const YAML::Node& node,
                                            int depth,
                                            std::vector<Entry>* branches) {
  if (!node.IsDefined() || !node.IsMap()) {
    error(mark_of(node),
          fmt::format("a condition must be a map with one operator, not {}", type_name(node)));
    return std::nullopt;
  }
  if (!take_budget(mark_of(node))) {
    return std::nullopt;
  }
  size_t errors_before = error_count();
  Keys keys = collect_keys(node, branches != nullptr);
  if (branches != nullptr) {
    *branches = keys.branches;
  }
  if (keys.operators.empty()) {
    if (!keys.unknown) {
      error(mark_of(node), "condition has no operator");
    }
    return std::nullopt;
  }
  std::optional<Condition> result;
  for (const Entry& entry : keys.operators) {
    std::optional<Condition> parsed = operation(entry, depth);
    if (&entry == &keys.operators.front()) {
      result = std::move(parsed);
    } else {
      error(entry.mark,
            fmt::format("more than one operator in condition ('{}' and '{}'); combine them "
                        "with 'and' or 'or'",
                        keys.operators.front().key,
                        entry.key));
    }
  }
  if (result) {
    companions(keys, *result);
  } else {
    // Check `value` and `path` even when the operand is wrong, to report every problem at once.
    Condition stub;
    stub.op = *parse_condition_op(keys.operators.front().key);
    stub.mark = keys.operators.front().mark;
    companions(keys, stub);
  }
  if (error_count() != errors_before) {
    return std::nullopt;
  }
  return result;
}

Keys Parser::collect_keys(const YAML::Node& node, bool allow_branches) {
  Keys keys;
  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
    if (!key.IsScalar()) {
      error(mark_of(key), fmt::format("condition keys must be strings, not {}", type_name(key)));
      keys.unknown = true;
      continue;
    }
    Entry entry{key.Scalar(), mark_of(key), it->second};
    if (std::find(seen.begin(), seen.end(), entry.key) != seen.end()) {
      error(entry.mark, fmt::format("duplicate key '{}' in condition", entry.key));
      continue;
    }
    seen.push_back(entry.key);
    classify_key(std::move(entry), allow_branches, keys);
  }
  return keys;
}

void Parser::classify_key(Entry entry, bool allow_branches, Keys& keys) {
  if (parse_condition_op(entry.key)) {
    keys.operators.push_back(std::move(entry));
  } else if (entry.key == "value") {
    keys.value = std::move(entry);
  } else if (entry.key == "path") {
    keys.path = std::move(entry);
  } else if (entry.key == "then" || entry.key == "else") {
    if (allow_branches) {
      keys.branches.push_back(std::move(entry));
    } else {
      error(entry.mark, fmt::format("'{}' is only allowed at the top level of an 'if'", entry.key));
    }
  } else {
    unknown_key(entry);
    keys.unknown = true;
  }
}

void Parser::unknown_key(const Entry& entry) {
  std::vector<std::string_view> candidates = {"value", "path", "then", "else"};
  for (const OpInfo& op : kOps) {
    candidates.push_back(op.name);
  }
  std::string suggestion = closest_match(entry.key, candidates);
  std::string message = fmt::format("unknown key '{}' in condition", entry.key);
  // closest_match allows two edits even for a one-letter word ('x' -> 'or'); a suggestion must
  // keep at least one letter of what was written.
  if (!suggestion.empty() && edit_distance(entry.key, suggestion) < entry.key.size()) {
    message += fmt::format(" (did you mean '{}'?)", suggestion);
  }
  error(entry.mark, std::move(message));
}

std::optional<Condition> Parser::operation(const Entry& entry, int depth) {
  Condition condition;
  condition.op = *parse_condition_op(entry.key);
  condition.mark = entry.mark;
  Shape shape = info(condition.op).shape;
  if (shape == kList) {
    return logical_list(entry, depth, condition) ? std::optional(condition) : std::nullopt;
  }
  if (shape == kSingle) {
    return logical_single(entry, depth, condition) ? std::optional(condition) : std::nullopt;
  }
  std::optional<std::string> operand = scalar(entry);
  if (!operand) {
    return std::nullopt;
  }
  if (condition.op == kPatternMatches) {
    check_pattern(entry, *operand);
  }
  condition.operand = std::move(*operand);
  return condition;
}

bool Parser::check_depth(const Entry& entry, int depth) {
  if (depth + 1 <= kMaxLogicalDepth) {
    return true;
  }
  error(entry.mark,
        fmt::format("'{}' is nested too deeply: logical operators may be nested at most {} "
                    "levels deep",
                    entry.key,
                    kMaxLogicalDepth));
  return false;
}

bool Parser::logical_list(const Entry& entry, int depth, Condition& condition) {
  if (!check_depth(entry, depth)) {
    return false;
  }
  if (!entry.value.IsSequence()) {
    error(entry.value_mark(),
          fmt::format(
              "'{}' must be a list of conditions, not {}", entry.key, type_name(entry.value)));
    return false;
  }
  if (entry.value.size() == 0) {
    error(entry.value_mark(), fmt::format("'{}' needs at least one condition", entry.key));
    return false;
  }
  bool ok = true;
  for (auto it = entry.value.begin(); it != entry.value.end(); ++it) {
    std::optional<Condition> child = expression(*it, depth + 1, nullptr);
    ok = ok && child.has_value();
    if (child) {
      condition.children.push_back(std::move(*child));
    }
  }
  return ok;
}

bool Parser::logical_single(const Entry& entry, int depth, Condition& condition) {
  if (!check_depth(entry, depth)) {
    return false;
  }
  if (!entry.value.IsMap()) {
    error(
        entry.value_mark(),
        fmt::format("'{}' must be a condition (a map), not {}", entry.key, type_name(entry.value)));
    return false;
  }
  std::optional<Condition> child = expression(entry.value, depth + 1, nullptr);
  if (!child) {
    return false;
  }
  condition.children.push_back(std::move(*child));
  return true;
}

std::optional<std::string> Parser::scalar(const Entry& entry) {
  if (!entry.value.IsScalar()) {
    error(
        entry.value_mark(),
        fmt::format(
            "'{}' must be a string, number or boolean, not {}", entry.key, type_name(entry.value)));
    return std::nullopt;
  }
  return entry.value.Scalar();
}

void Parser::check_pattern(const Entry& entry, const std::string& pattern) {
  if (pattern.find("{{") != std::string::npos) {
    return;  // checked when evaluated, after resolution
  }
  std::unique_ptr<RE2> re = compile_pattern(pattern);
  if (!re->ok()) {
    error(entry.value_mark(), fmt::format("invalid pattern in 'patternMatches': {}", re->error()));
  }
}

// Checks `value` and `path` against what the operator takes and stores them.
void Parser::companions(const Keys& keys, Condition& condition) {
  Shape shape = info(condition.op).shape;
  companion(keys.value, "value", shape == kCompare, condition, condition.value);
  companion(keys.path, "path", shape == kFileHash, condition, condition.path);
}

void Parser::companion(const std::optional<Entry>& entry,
                       std::string_view key,
                       bool wanted,
                       const Condition& condition,
                       std::optional<std::string>& out) {
  std::string_view op = condition_op_name(condition.op);
  if (!wanted) {
    if (entry) {
      error(entry->mark, fmt::format("'{}' is not allowed with '{}'", key, op));
    }
    return;
  }
  if (!entry) {
    error(condition.mark,
          key == "value" ? fmt::format("'{}' needs a 'value' to compare with", op)
                         : fmt::format("'{}' needs the 'path' of the file to hash", op));
    return;
  }
  out = scalar(*entry);
}

void Parser::branch(const Entry& entry, Conditional& conditional) {
  static constexpr std::pair<std::string_view, Branch> kBranches[] = {
      {"Abort", Branch::kAbort}, {"Execute", Branch::kExecute}, {"Skip", Branch::kSkip}};
  Branch& out = entry.key == "then" ? conditional.then_branch : conditional.else_branch;
  if (entry.value.IsScalar()) {
    for (const auto& [name, value] : kBranches) {
      if (entry.value.Scalar() == name) {
        out = value;
        return;
      }
    }
  }
  std::string got = entry.value.IsScalar() ? fmt::format("'{}'", entry.value.Scalar())
                                           : std::string(type_name(entry.value));
  error(entry.value_mark(),
        fmt::format("'{}' must be Abort, Execute or Skip, not {}", entry.key, got));
}

// Runs `parse` and turns any exception (yaml-cpp's, or running out of memory) into a diagnostic.
template <typename T, typename Fn>
std::optional<T> guarded(const YAML::Node& node,
                         const std::string& path,
                         Diagnostics& diagnostics,
                         Fn&& parse) {
  try {
    return parse();
  } catch (const std::exception& e) {
    diagnostics.push_back(
        {path, mark_of(node), fmt::format("cannot read condition: {}", e.what())});
    return std::nullopt;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n' || c == '\t') {
      out += c == '\n' ? "\\n" : "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_member(std::string& out, std::string_view key, const std::optional<std::string>& text) {
  if (text) {
    out += ',';
    append_json_string(out, key);
    out += ':';
    append_json_string(out, *text);
  }
}

void append_description(std::string& out, const Condition& condition) {
  const OpInfo& op = info(condition.op);
  out += '{';
  append_json_string(out, op.name);
  out += ':';
  if (op.shape == kList) {
    out += '[';
    for (size_t i = 0; i < condition.children.size(); ++i) {
      out += i > 0 ? "," : "";
      append_description(out, condition.children[i]);
    }
    out += ']';
  } else if (op.shape == kSingle) {
    if (condition.children.empty()) {
      out += "null";
    } else {
      append_description(out, condition.children[0]);
    }
  } else {
    append_json_string(out, condition.operand);
  }
  append_member(out, "value", condition.value);
  append_member(out, "path", condition.path);
  out += '}';
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public interface

std::string_view condition_op_name(ConditionOp op) {
  return is_valid(op) ? info(op).name : std::string_view("unknown");
}

std::optional<ConditionOp> parse_condition_op(std::string_view name) {
  for (const OpInfo& op : kOps) {
    if (op.name == name) {
      return op.op;
    }
  }
  return std::nullopt;
}

std::optional<Condition> parse_condition(const YAML::Node& node,
                                         const std::string& path,
                                         Diagnostics& diagnostics) {
  return guarded<Condition>(node, path, diagnostics, [&]() -> std::optional<Condition> {
    Parser parser(path, diagnostics);
    return parser.expression(node, 0, nullptr);
  });
}

std::optional<Conditional> parse_conditional(const YAML::Node& node,
                                             const std::string& path,
                                             Diagnostics& diagnostics) {
  return guarded<Conditional>(node, path, diagnostics, [&]() -> std::optional<Conditional> {
    Parser parser(path, diagnostics);
    size_t errors_before = parser.error_count();
    std::vector<Entry> branches;
    std::optional<Condition> expression = parser.expression(node, 0, &branches);
    Conditional conditional;
    for (const Entry& entry : branches) {
      parser.branch(entry, conditional);
    }
    if (!expression || parser.error_count() != errors_before) {
      return std::nullopt;
    }
    conditional.expression = std::move(*expression);
    return conditional;
  });
}

bool SystemProbe::binary_exists(const std::string& name) const {
  return !name.empty() && os::find_program(name).has_value();
}

bool SystemProbe::file_exists(const std::string& path) const {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec);
}

bool SystemProbe::folder_exists(const std::string& path) const {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_directory(path, ec);
}

std::optional<std::string> SystemProbe::file_hash(const std::string& path,
                                                  ConditionOp algorithm) const {
  std::optional<HashAlgorithm> hash = hash_algorithm(algorithm);
  if (!hash || path.empty()) {
    return std::nullopt;
  }
  Result<std::string> digest = hash_file_hex(*hash, path);
  if (!digest.ok()) {
    return std::nullopt;
  }
  return std::move(digest).value();
}

bool evaluate(const Condition& condition, const StringResolver& resolve, const Probe& probe) {
  return evaluate_node(condition, Evaluation{resolve, probe});
}

void for_each_string(const Condition& condition,
                     const std::function<void(const std::string&, Mark)>& fn) {
  Shape shape = info(condition.op).shape;
  if (shape != kList && shape != kSingle) {
    fn(condition.operand, condition.mark);
  }
  if (condition.value) {
    fn(*condition.value, condition.mark);
  }
  if (condition.path) {
    fn(*condition.path, condition.mark);
  }
  for (const Condition& child : condition.children) {
    for_each_string(child, fn);
  }
}

std::string describe(const Condition& condition) {
  std::string out;
  append_description(out, condition);
  return out;
}

}  // namespace kiln::document
