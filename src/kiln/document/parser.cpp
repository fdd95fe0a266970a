#include "kiln/document/parser.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/document/reference.hpp"

namespace kiln::document {
namespace {

using Node = YAML::Node;

Mark mark_of(const Node& node) {
  YAML::Mark m = node.Mark();
  if (m.is_null()) {
    return {};
  }
  return {m.line + 1, m.column + 1};
}

std::string node_kind(const Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Null:
      return "empty";
    case YAML::NodeType::Undefined:
      break;
  }
  return "missing";
}

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t value = 0;
  std::string_view t = text;
  if (!t.empty() && t.front() == '+') {
    t.remove_prefix(1);
  }
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string t = to_lower(text);
  if (t == "true") {
    return true;
  }
  if (t == "false") {
    return false;
  }
  return std::nullopt;
}

constexpr std::string_view kDelimiters = ".,;:\n\t -_";

struct StepInfo {
  const ModuleSpec* module = nullptr;
  size_t input_count = 0;
};

class Parser {
 public:
  Parser(const std::string& text, const std::string& path, Diagnostics& diagnostics)
      : diagnostics_(diagnostics) {
    doc_.path = path;
    doc_.text = text;
    line_starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        line_starts_.push_back(i + 1);
      }
    }
  }

  std::optional<Document> parse() {
    Node root;
    try {
      root = YAML::Load(doc_.text);
    } catch (const YAML::ParserException& e) {
      diagnostics_.push_back({doc_.path, {e.mark.line + 1, e.mark.column + 1}, e.msg});
      return std::nullopt;
    } catch (const YAML::Exception& e) {
      diagnostics_.push_back({doc_.path, {}, e.what()});
      return std::nullopt;
    }
    try {
      parse_root(root);
    } catch (const YAML::Exception& e) {
      // yaml-cpp throws only on conversions this parser guards against; report, never crash.
      error(root, fmt::format("cannot read document: {}", e.what()));
    }
    if (!diagnostics_.empty()) {
      std::stable_sort(
          diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
            return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
          });
      return std::nullopt;
    }
    return std::move(doc_);
  }

 private:
  template <typename... Args>
  void error(const Node& at, fmt::format_string<Args...> format, Args&&... args) {
    diagnostics_.push_back(
        {doc_.path, where(at), fmt::format(format, std::forward<Args>(args)...)});
  }
  void error(const Node& at, std::string message) {
    diagnostics_.push_back({doc_.path, where(at), std::move(message)});
  }
  // An empty value's own mark is the next token's, often on a later line: point at its key.
  Mark where(const Node& node) const {
    if (node.IsDefined() && node.IsNull()) {
      for (const auto& [value, key] : empty_values_) {
        if (value.is(node)) {
          return key;
        }
      }
    }
    return mark_of(node);
  }
  void error_at(Mark mark, std::string message) {
    diagnostics_.push_back({doc_.path, mark, std::move(message)});
  }

  // Checks a map's keys: each must be known and appear once. Returns false if not a map.
  bool check_map(const Node& node,
                 std::string_view what,
                 const std::vector<std::string_view>& known) {
    if (!node.IsMap()) {
      error(node, "{} must be a map, not {}", what, node_kind(node));
      return false;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        error(entry.first, "{}: keys must be strings", what);
        continue;
      }
      const std::string& key = entry.first.Scalar();
      if (entry.second.IsNull()) {
        empty_values_.emplace_back(entry.second, mark_of(entry.first));
      }
      if (!seen.insert(key).second) {
        error(entry.first, "duplicate key '{}' in {}", key, what);
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string hint = closest_match(key, known);
        error(entry.first,
              "unknown field '{}' in {}{}",
              key,
              what,
              hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
      }
    }
    return true;
  }

  std::optional<std::string> scalar(const Node& node, std::string_view what) {
    if (!node.IsDefined() || node.IsNull()) {
      return std::nullopt;
    }
    if (!node.IsScalar()) {
      error(node, "{} must be a string, not {}{}", what, node_kind(node), quoting_hint(node));
      return std::nullopt;
    }
    return node.Scalar();
  }

  // `- {{ X }}` unquoted is a YAML flow map; say what went wrong.
  static std::string quoting_hint(const Node& node) {
    if (node.IsMap() && node.size() == 1 && node.begin()->first.IsMap()) {
      return " (a {{ }} reference must be quoted: '{{ Name }}')";
    }
    return "";
  }

  void parse_root(const Node& root) {
    if (!root.IsMap()) {
      error(root,
            "a component document must be a map with schemaVersion and phases, not {}",
            node_kind(root));
      return;
    }
    check_map(root,
              "the document",
              {"name", "description", "schemaVersion", "parameters", "constants", "phases"});
    doc_.name = scalar(root["name"], "name").value_or("");
    doc_.description = scalar(root["description"], "description").value_or("");
    parse_schema_version(root);
    if (root["parameters"]) {
      parse_parameters(root["parameters"]);
    }
    if (root["constants"]) {
      parse_constants(root["constants"]);
    }
    if (!root["phases"]) {
      error(root, "missing required field 'phases'");
      return;
    }
    parse_phases(root["phases"]);
  }

  void parse_schema_version(const Node& root) {
    Node node = root["schemaVersion"];
    if (!node) {
      error(root, "missing required field 'schemaVersion' (use schemaVersion: 1.0)");
      return;
    }
    std::optional<std::string> version = scalar(node, "schemaVersion");
    if (version && *version != "1.0") {
      error(node, "unsupported schemaVersion '{}': the only version is 1.0", *version);
    }
    doc_.schema_version = version.value_or("");
  }

  // parameters/constants: a list of single-key maps, "- Name: {type: string, ...}".
  template <typename Fn>
  void for_each_named(const Node& list, std::string_view what, Fn fn) {
    if (!list.IsSequence()) {
      error(list, "{} must be a list of '- Name: {{...}}' entries, not {}", what, node_kind(list));
      return;
    }
    for (const Node& item : list) {
      if (!item.IsMap() || item.size() != 1 || !item.begin()->first.IsScalar()) {
        error(item, "each entry of {} must be a map with one key, the name", what);
        continue;
      }
      const std::string name = item.begin()->first.Scalar();
      const Node body = item.begin()->second;
      if (!is_valid_variable_name(name)) {
        error(item.begin()->first,
              "invalid name '{}': names are 3 to 128 characters of letters, digits, '_' and '-'",
              name);
      } else if (!variables_.insert(name).second) {
        error(item.begin()->first,
              "duplicate name '{}': parameters and constants share one namespace",
              name);
      }
      fn(name, item.begin()->first, body);
    }
  }

  void check_type(const Node& body, std::string_view what) {
    std::optional<std::string> type = scalar(body["type"], "type");
    if (!body["type"]) {
      error(body, "{} is missing its required 'type' (type: string)", what);
    } else if (type && to_lower(*type) != "string") {
      error(body["type"], "unsupported type '{}': the only type is string", *type);
    }
  }

  void parse_parameters(const Node& list) {
    for_each_named(
        list, "parameters", [&](const std::string& name, const Node& key, const Node& body) {
          Parameter p;
          p.name = name;
          p.mark = mark_of(key);
          if (check_map(
                  body, fmt::format("parameter '{}'", name), {"type", "default", "description"})) {
            check_type(body, fmt::format("parameter '{}'", name));
            p.type = "string";
            if (body["default"]) {
              p.default_value = scalar(body["default"], "default").value_or("");
            }
            p.description = scalar(body["description"], "description").value_or("");
          }
          doc_.parameters.push_back(std::move(p));
        });
  }

  void parse_constants(const Node& list) {
    for_each_named(
        list, "constants", [&](const std::string& name, const Node& key, const Node& body) {
          Constant c;
          c.name = name;
          c.mark = mark_of(key);
          if (check_map(body, fmt::format("constant '{}'", name), {"type", "value"})) {
            check_type(body, fmt::format("constant '{}'", name));
            c.type = "string";
            if (!body["value"]) {
              error(body, "constant '{}' is missing its required 'value'", name);
            }
            c.value = scalar(body["value"], "value").value_or("");
          }
          doc_.constants.push_back(std::move(c));
        });
  }

  void parse_phases(const Node& list) {
    if (!list.IsSequence() || list.size() == 0) {
      error(list,
            "phases must be a non-empty list of phases (- name: build ...), not {}",
            list.IsSequence() ? "an empty list" : node_kind(list));
      return;
    }
    std::set<std::string> names;
    for (const Node& node : list) {
      Phase phase;
      phase.mark = mark_of(node);
      if (!check_map(node, "a phase", {"name", "steps"})) {
        continue;
      }
      phase.name = scalar(node["name"], "phase name").value_or("");
      if (!node["name"] || phase.name.empty()) {
        error(node, "a phase needs a name (build, validate, test, ...)");
      } else if (!names.insert(phase.name).second) {
        error(node["name"], "duplicate phase name '{}'", phase.name);
      }
      if (!node["steps"]) {
        error(node, "phase '{}' is missing its required 'steps'", phase.name);
      } else {
        parse_steps(node["steps"], phase);
      }
      doc_.phases.push_back(std::move(phase));
    }
  }

  void parse_steps(const Node& list, Phase& phase) {
    if (!list.IsSequence() || list.size() == 0) {
      error(list,
            "steps of phase '{}' must be a non-empty list, not {}",
            phase.name,
            list.IsSequence() ? "an empty list" : node_kind(list));
      return;
    }
    std::set<std::string> names;
    std::set<std::string> loop_names;
    for (const Node& node : list) {
      Step step;
      if (!parse_step(node, phase, step, loop_names)) {
        continue;
      }
      if (!names.insert(step.name).second) {
        error(node["name"], "duplicate step name '{}' in phase '{}'", step.name, phase.name);
      }
      // Later steps (and later phases) may refer to this one.
      seen_steps_[phase.name + "." + step.name] = StepInfo{step.module, input_count(step)};
      phase.steps.push_back(std::move(step));
    }
  }

  static size_t input_count(const Step& step) {
    return step.inputs.is_array() ? step.inputs.size() : 1;
  }

  bool parse_step(const Node& node, const Phase& phase, Step& step, std::set<std::string>& loops) {
    step.mark = mark_of(node);
    if (!check_map(node,
                   "a step",
                   {"name",
                    "action",
                    "timeoutSeconds",
                    "onFailure",
                    "maxAttempts",
                    "if",
                    "loop",
                    "inputs",
                    "disableLogging"})) {
      return false;
    }
    step.name = scalar(node["name"], "step name").value_or("");
    if (step.name.empty()) {
      error(node, "a step in phase '{}' needs a name", phase.name);
      return false;
    }
    if (step.name.find('.') != std::string::npos) {
      error(
          node["name"], "step name '{}' must not contain '.' (it would break chaining)", step.name);
    }
    parse_step_options(node, step);
    if (node["loop"]) {
      step.loop = parse_loop(node["loop"], loops);
    }
    if (node["if"]) {
      step.condition = parse_conditional(node["if"], doc_.path, diagnostics_);
      if (step.condition) {
        check_condition_references(step.condition->expression, step);
      }
    }
    if (!node["action"]) {
      error(node, "step '{}' is missing its required 'action'", step.name);
      return true;
    }
    step.action = scalar(node["action"], "action").value_or("");
    step.module = find_module(step.action);
    if (step.module == nullptr) {
      report_unknown_module(node["action"], step.action);
      return true;
    }
    check_module_options(node, step);
    parse_inputs(node, step);
    return true;
  }

  void report_unknown_module(const Node& at, const std::string& name) {
    std::vector<std::string_view> names;
    for (const ModuleSpec& m : all_modules()) {
      names.push_back(m.name);
    }
    std::string hint = closest_match(name, names);
    error(at,
          "unknown action module '{}'{}",
          name,
          hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  }

  void parse_step_options(const Node& node, Step& step) {
    if (Node t = node["timeoutSeconds"]) {
      std::optional<int64_t> v = parse_int(scalar(t, "timeoutSeconds").value_or("x"));
      if (!v || (*v != kInfiniteTimeout && *v <= 0)) {
        error(t, "timeoutSeconds must be a positive number of seconds or -1 (no timeout)");
      } else {
        step.timeout_seconds = *v;
      }
    }
    if (Node m = node["maxAttempts"]) {
      std::optional<int64_t> v = parse_int(scalar(m, "maxAttempts").value_or("x"));
      if (!v || *v < 1 || *v > 1000) {
        error(m, "maxAttempts must be a whole number from 1 to 1000");
      } else {
        step.max_attempts = static_cast<int>(*v);
      }
    }
    if (Node f = node["onFailure"]) {
      std::string v = scalar(f, "onFailure").value_or("");
      if (v == "Abort") {
        step.on_failure = OnFailure::kAbort;
      } else if (v == "Continue") {
        step.on_failure = OnFailure::kContinue;
      } else if (v == "Ignore") {
        step.on_failure = OnFailure::kIgnore;
      } else {
        error(f, "onFailure must be Abort, Continue or Ignore, not '{}'", v);
      }
    }
    if (Node d = node["disableLogging"]) {
      std::optional<bool> v = parse_bool(scalar(d, "disableLogging").value_or(""));
      if (!v) {
        error(d, "disableLogging must be true or false");
      }
      step.disable_logging = v.value_or(false);
    }
  }

  // ExecuteDocument runs with no timeout and one attempt; Reboot has no timeout.
  void check_module_options(const Node& node, Step& step) {
    if (step.action == "ExecuteDocument") {
      if (node["timeoutSeconds"] && step.timeout_seconds != kInfiniteTimeout) {
        error(node["timeoutSeconds"], "ExecuteDocument steps always run with timeoutSeconds -1");
      }
      step.timeout_seconds = kInfiniteTimeout;  // always, as AWS documents
      if (node["maxAttempts"] && step.max_attempts != 1) {
        error(node["maxAttempts"], "ExecuteDocument steps always run with maxAttempts 1");
      }
    }
    if (step.action == "Reboot" && node["timeoutSeconds"]) {
      error(node["timeoutSeconds"], "Reboot steps do not support timeoutSeconds");
    }
  }

  std::optional<Loop> parse_loop(const Node& node, std::set<std::string>& loops) {
    if (!check_map(node, "a loop", {"name", "for", "forEach"})) {
      return std::nullopt;
    }
    Loop loop;
    loop.mark = mark_of(node);
    loop.name = scalar(node["name"], "loop name").value_or("");
    if (!loop.name.empty() && !loops.insert(loop.name).second) {
      error(node["name"], "duplicate loop name '{}' in this phase", loop.name);
    }
    if (loop.name == "loop") {
      error(node["name"], "a loop cannot be named 'loop'; that name refers to the current loop");
    }
    bool has_for = static_cast<bool>(node["for"]);
    bool has_for_each = static_cast<bool>(node["forEach"]);
    if (has_for == has_for_each) {
      error(node, "a loop needs exactly one of 'for' or 'forEach'");
      return std::nullopt;
    }
    bool ok = has_for ? parse_for(node["for"], loop) : parse_for_each(node["forEach"], loop);
    return ok ? std::optional<Loop>(std::move(loop)) : std::nullopt;
  }

  bool parse_for(const Node& node, Loop& loop) {
    if (!check_map(node, "a for loop", {"start", "end", "updateBy"})) {
      return false;
    }
    auto number = [&](const char* key, int64_t& out) {
      Node n = node[key];
      if (!n) {
        error(node, "a for loop needs '{}'", key);
        return false;
      }
      std::optional<std::string> text = scalar(n, key);
      std::optional<int64_t> v = text ? parse_int(*text) : std::nullopt;
      if (!v) {
        error(n, "'{}' must be a whole number (loops take no references)", key);
        return false;
      }
      out = *v;
      return true;
    };
    loop.kind = Loop::Kind::kFor;
    // Each bound is checked, so that every bad one is reported.
    bool start_ok = number("start", loop.start);
    bool end_ok = number("end", loop.end);
    bool update_by_ok = number("updateBy", loop.update_by);
    if (!start_ok || !end_ok || !update_by_ok) {
      return false;
    }
    if (loop.update_by == 0) {
      error(node["updateBy"], "updateBy must not be 0: the loop would never end");
      return false;
    }
    if ((loop.end > loop.start && loop.update_by < 0) ||
        (loop.end < loop.start && loop.update_by > 0)) {
      error(node["updateBy"],
            "updateBy {} never takes the loop from {} to {}: an infinite loop",
            loop.update_by,
            loop.start,
            loop.end);
      return false;
    }
    if (uint64_t count = iteration_count(loop); count > kMaxLoopIterations) {
      error(node,
            "this loop has {} iterations; a loop may have at most {}",
            count,
            kMaxLoopIterations);
      return false;
    }
    return true;
  }

  bool parse_for_each(const Node& node, Loop& loop) {
    if (node.IsSequence()) {
      loop.kind = Loop::Kind::kForEachList;
      for (const Node& item : node) {
        if (std::optional<std::string> s = scalar(item, "a forEach item")) {
          loop.items.push_back(*s);
          check_references(*s, mark_of(item), nullptr);
        }
      }
      return true;
    }
    if (!check_map(node, "forEach", {"list", "delimiter"})) {
      return false;
    }
    loop.kind = Loop::Kind::kForEachDelimited;
    if (!node["list"]) {
      error(node, "forEach needs a list (a list of strings, or list: and delimiter:)");
      return false;
    }
    loop.list = scalar(node["list"], "list").value_or("");
    check_references(loop.list, mark_of(node["list"]), nullptr);
    if (Node d = node["delimiter"]) {
      std::string delimiter = scalar(d, "delimiter").value_or("");
      if (delimiter.size() != 1 || kDelimiters.find(delimiter[0]) == std::string_view::npos) {
        error(d, "delimiter must be one of . , ; : space tab newline - _ (got '{}')", delimiter);
        return false;
      }
      loop.delimiter = delimiter[0];
    }
    return true;
  }

  void parse_inputs(const Node& node, Step& step) {
    const ModuleSpec& module = *step.module;
    Node inputs = node["inputs"];
    if (!inputs) {
      if (!module.inputs_optional) {
        error(node, "step '{}' is missing its required 'inputs'", step.name);
      }
      step.inputs = module.shape == InputShape::kList ? Json::array() : Json::object();
      return;
    }
    switch (module.shape) {
      case InputShape::kExpression:
        step.assertion = parse_condition(inputs, doc_.path, diagnostics_);
        if (step.assertion) {
          check_condition_references(*step.assertion, step);
          step.inputs = Json::parse(describe(*step.assertion), nullptr, false);
        }
        return;
      case InputShape::kObject:
        if (inputs.IsNull() && module.inputs_optional) {
          step.inputs = Json::object();
          return;
        }
        if (!inputs.IsMap()) {
          error(inputs, "{} takes a single map of inputs, not {}", module.name, node_kind(inputs));
          return;
        }
        step.inputs = parse_input_object(inputs, step, 0);
        return;
      case InputShape::kList:
        if (!inputs.IsSequence()) {
          error(inputs,
                "{} takes a list of inputs ('- {}: ...'), not {}",
                module.name,
                module.fields.empty() ? "path" : module.fields[0].name,
                node_kind(inputs));
          return;
        }
        step.inputs = Json::array();
        for (const Node& item : inputs) {
          step.inputs.push_back(parse_input_object(item, step, step.inputs.size()));
        }
        return;
    }
  }

  Json parse_input_object(const Node& node, Step& step, size_t index) {
    const ModuleSpec& module = *step.module;
    std::vector<std::string_view> names;
    for (const FieldSpec& f : module.fields) {
      names.push_back(f.name);
    }
    Json out = Json::object();
    if (!check_map(node, fmt::format("the inputs of {}", module.name), names)) {
      return out;
    }
    for (const FieldSpec& field : module.fields) {
      Node value = node[std::string(field.name)];
      if (!value) {
        if (field.required) {
          error(node,
                "{} input{} is missing its required field '{}'",
                module.name,
                module.shape == InputShape::kList ? fmt::format(" {}", index) : "",
                field.name);
        }
        continue;
      }
      out[std::string(field.name)] = parse_field(value, field, step);
    }
    check_module_inputs(node, out, module);
    return out;
  }

  Json parse_field(const Node& value, const FieldSpec& field, Step& step) {
    std::string what = fmt::format("'{}'", field.name);
    switch (field.type) {
      case FieldType::kString:
        return string_field(value, what, step);
      case FieldType::kBool:
      case FieldType::kInt:
        return typed_scalar_field(value, field, what, step);
      case FieldType::kStringOrList:
        if (value.IsScalar()) {
          return Json::array({string_field(value, what, step)});
        }
        [[fallthrough]];
      case FieldType::kStringList:
        return string_list_field(value, what, step);
      case FieldType::kStringMap:
        return string_map_field(value, what, step);
      case FieldType::kParameterList:
        return parameter_list_field(value, step);
    }
    return nullptr;
  }

  Json string_field(const Node& value, const std::string& what, Step& step) {
    if (value.IsNull()) {
      return "";
    }
    std::optional<std::string> s = scalar(value, what);
    if (!s) {
      return nullptr;
    }
    check_references(*s, mark_of(value), &step);
    return *s;
  }

  Json typed_scalar_field(const Node& value,
                          const FieldSpec& field,
                          const std::string& what,
                          Step& step) {
    std::optional<std::string> s = scalar(value, what);
    if (!s) {
      return nullptr;
    }
    if (has_references(*s)) {
      check_references(*s, mark_of(value), &step);
      return *s;  // converted after resolution
    }
    if (field.type == FieldType::kBool) {
      if (std::optional<bool> b = parse_bool(*s)) {
        return *b;
      }
      error(value, "{} must be true or false, not '{}'", what, *s);
      return nullptr;
    }
    if (std::optional<int64_t> i = parse_int(*s)) {
      return *i;
    }
    error(value, "{} must be a whole number, not '{}'", what, *s);
    return nullptr;
  }

  Json string_list_field(const Node& value, const std::string& what, Step& step) {
    Json out = Json::array();
    if (!value.IsSequence()) {
      error(value,
            "{} must be a list of strings, not {}{}",
            what,
            node_kind(value),
            quoting_hint(value));
      return out;
    }
    for (const Node& item : value) {
      out.push_back(string_field(item, what + " item", step));
    }
    return out;
  }

  Json string_map_field(const Node& value, const std::string& what, Step& step) {
    Json out = Json::object();
    if (!value.IsMap()) {
      error(value, "{} must be a map of strings, not {}", what, node_kind(value));
      return out;
    }
    for (const auto& entry : value) {
      std::string key = scalar(entry.first, what + " key").value_or("");
      out[key] = string_field(entry.second, what + "." + key, step);
    }
    return out;
  }

  Json parameter_list_field(const Node& value, Step& step) {
    Json out = Json::array();
    if (!value.IsSequence()) {
      error(value,
            "'parameters' must be a list of '- name: ...  value: ...', not {}",
            node_kind(value));
      return out;
    }
    for (const Node& item : value) {
      if (!check_map(item, "a parameter", {"name", "value"})) {
        continue;
      }
      if (!item["name"] || !item["value"]) {
        error(item, "a parameter needs both 'name' and 'value'");
        continue;
      }
      out.push_back(Json{{"name", string_field(item["name"], "'name'", step)},
                         {"value", string_field(item["value"], "'value'", step)}});
    }
    return out;
  }

  // Checks that need several fields, or a field's value, of one input object.
  void check_module_inputs(const Node& node, const Json& input, const ModuleSpec& module) {
    auto literal = [&](std::string_view key) -> std::optional<std::string> {
      auto it = input.find(std::string(key));
      if (it == input.end() || !it->is_string() || has_references(it->get<std::string>())) {
        return std::nullopt;
      }
      return it->get<std::string>();
    };
    if (auto enc = literal("encoding"); enc && !is_known_encoding(*enc)) {
      error(node["encoding"], "unknown encoding '{}' (utf8, utf16, utf16-BE, utf32, ...)", *enc);
    }
    if (auto perm = literal("permissions"); perm && !is_octal_permissions(*perm)) {
      error(node["permissions"],
            "permissions must be octal digits like '0755' or '644', not '{}'",
            *perm);
    }
    if (module.name == "WebDownload") {
      check_checksum(node, input);
    }
  }

  void check_checksum(const Node& node, const Json& input) {
    bool has_checksum = input.contains("checksum");
    bool has_algorithm = input.contains("algorithm");
    if (has_checksum != has_algorithm) {
      error(node, "WebDownload needs both 'checksum' and 'algorithm' to verify a download");
    }
    if (has_algorithm && input["algorithm"].is_string()) {
      std::string a = input["algorithm"].get<std::string>();
      if (!has_references(a) && a != "MD5" && a != "SHA1" && a != "SHA256" && a != "SHA512") {
        error(node["algorithm"], "algorithm must be MD5, SHA1, SHA256 or SHA512, not '{}'", a);
      }
    }
  }

  void check_condition_references(const Condition& condition, const Step& step) {
    for_each_string(condition, [&](const std::string& text, Mark mark) {
      check_references(text, mark, &step);
    });
  }

  void check_references(const std::string& text, Mark mark, const Step* step) {
    if (!has_references(text)) {
      return;
    }
    for (const TemplatePart& part : parse_template(text)) {
      if (part.is_reference) {
        check_reference(part.reference, reference_mark(text, mark, part), step);
      }
    }
  }

  // Points at the reference itself when the string is on one line of the source (a quote
  // before it shifts it by one) and the reference is found there as written; otherwise (escapes,
  // folded or block scalars, a condition's mark that is its operator's) at `mark`.
  Mark reference_mark(const std::string& text, Mark mark, const TemplatePart& part) const {
    if (text.find('\n') != std::string::npos || mark.line <= 0) {
      return mark;
    }
    if (static_cast<size_t>(mark.line) > line_starts_.size()) {
      return mark;
    }
    size_t at =
        line_starts_[static_cast<size_t>(mark.line - 1)] + static_cast<size_t>(mark.column - 1);
    int quote = (at < doc_.text.size() && (doc_.text[at] == '\'' || doc_.text[at] == '"')) ? 1 : 0;
    size_t from = at + static_cast<size_t>(quote) + part.offset;
    if (from > doc_.text.size() || doc_.text.compare(from, part.text.size(), part.text) != 0) {
      return mark;
    }
    return Mark{mark.line, mark.column + quote + static_cast<int>(part.offset)};
  }

  void check_reference(const Reference& ref, Mark mark, const Step* step) {
    using K = Reference::Kind;
    switch (ref.kind) {
      case K::kVariable:
        check_variable(ref, mark);
        return;
      case K::kChainInput:
      case K::kChainOutput:
        check_chain(ref, mark);
        return;
      case K::kLoop:
        check_loop_reference(ref, mark, step);
        return;
      case K::kContext:
        if (!is_known_context_key(ref.name)) {
          error_at(mark,
                   fmt::format("unknown context key '{}' in '{{{{ {} }}}}'", ref.name, ref.text));
        }
        return;
      case K::kImds:
        if (starts_with(ref.name, "iam/") || starts_with(ref.name, "identity-credentials/")) {
          error_at(mark,
                   fmt::format("'{{{{ {} }}}}': instance credentials cannot be read", ref.text));
        }
        return;
      case K::kEnv:
      case K::kSsm:
        return;
      case K::kInvalid:
        error_at(mark, fmt::format("malformed reference '{{{{ {} }}}}'", ref.text));
        return;
    }
  }

  void check_variable(const Reference& ref, Mark mark) {
    if (variables_.count(ref.name) != 0) {
      return;
    }
    std::vector<std::string_view> names(variables_.begin(), variables_.end());
    std::string hint = closest_match(ref.name, names);
    error_at(mark,
             fmt::format("'{{{{ {} }}}}' refers to no declared parameter or constant{}",
                         ref.text,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }

  void check_chain(const Reference& ref, Mark mark) {
    auto it = seen_steps_.find(ref.phase + "." + ref.step);
    if (it == seen_steps_.end()) {
      error_at(mark,
               fmt::format("'{{{{ {} }}}}' refers to step '{}' of phase '{}', which does "
                           "not come before this step in this document",
                           ref.text,
                           ref.step,
                           ref.phase));
      return;
    }
    const StepInfo& info = it->second;
    if (info.module == nullptr) {
      return;
    }
    if (ref.kind == Reference::Kind::kChainOutput) {
      check_output_name(ref, mark, *info.module);
      return;
    }
    if (info.module->shape != InputShape::kExpression &&
        find_field(*info.module, ref.field) == nullptr) {
      error_at(mark,
               fmt::format(
                   "'{{{{ {} }}}}': {} has no input '{}'", ref.text, info.module->name, ref.field));
    }
    if (ref.index && *ref.index >= info.input_count) {
      error_at(mark,
               fmt::format("'{{{{ {} }}}}': step '{}' has only {} input(s)",
                           ref.text,
                           ref.step,
                           info.input_count));
    }
  }

  void check_output_name(const Reference& ref, Mark mark, const ModuleSpec& module) {
    if (std::find(module.outputs.begin(), module.outputs.end(), ref.field) !=
        module.outputs.end()) {
      return;
    }
    std::vector<std::string> names(module.outputs.begin(), module.outputs.end());
    error_at(mark,
             fmt::format("'{{{{ {} }}}}': {} has no output '{}'{}",
                         ref.text,
                         module.name,
                         ref.field,
                         names.empty() ? " (it has no outputs)"
                                       : fmt::format(" (it has: {})", join(names, ", "))));
  }

  // Loop references resolve only inside a step with a loop; elsewhere AWSTOE leaves them as
  // literal text, so they are not an error there.
  void check_loop_reference(const Reference& ref, Mark mark, const Step* step) {
    if (step == nullptr || !step->loop || ref.name == "loop" || ref.name == step->loop->name) {
      return;
    }
    error_at(mark,
             fmt::format("'{{{{ {} }}}}' refers to loop '{}', but this step's loop is {}",
                         ref.text,
                         ref.name,
                         step->loop->name.empty() ? std::string("unnamed ('loop')")
                                                  : "'" + step->loop->name + "'"));
  }

  Diagnostics& diagnostics_;
  Document doc_;
  std::set<std::string> variables_;
  std::map<std::string, StepInfo> seen_steps_;
  std::vector<std::pair<Node, Mark>> empty_values_;  // from check_map, for where()
  std::vector<size_t> line_starts_;  // byte offset where each line of the source begins
};

}  // namespace

ParseResult parse_document(const std::string& text, const std::string& path) {
  ParseResult result;
  Parser parser(text, path, result.diagnostics);
  result.document = parser.parse();
  return result;
}

ParseResult parse_document_file(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text) {
    ParseResult result;
    result.diagnostics.push_back({path, {}, text.error().message});
    return result;
  }
  return parse_document(*text, path);
}

}  // namespace kiln::document
