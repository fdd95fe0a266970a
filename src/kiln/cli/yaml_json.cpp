// YAML <-> JSON for the resource verbs' input files and --output yaml (output.hpp).

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <regex>

#include "kiln/base/strings.hpp"
#include "kiln/cli/output.hpp"

namespace kiln::cli {

namespace {

// YAML 1.2 core schema: what a plain scalar means.
Json plain_scalar(const std::string& text) {
  static const std::regex null_re("~|null|Null|NULL|");
  static const std::regex true_re("true|True|TRUE");
  static const std::regex false_re("false|False|FALSE");
  static const std::regex int_re("[-+]?[0-9]+");
  static const std::regex float_re(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|"
      "NAN)");
  if (std::regex_match(text, null_re)) {
    return nullptr;
  }
  if (std::regex_match(text, true_re)) {
    return true;
  }
  if (std::regex_match(text, false_re)) {
    return false;
  }
  if (std::regex_match(text, int_re)) {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '+') {
      digits.remove_prefix(1);
    }
    int64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && end == digits.data() + digits.size()) {
      return value;
    }
  }
  if (std::regex_match(text, float_re)) {
    try {
      return std::stod(text);
    } catch (const std::exception&) {
      return text;
    }
  }
  return text;
}

Json node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) {
        object[entry.first.as<std::string>()] = node_to_json(entry.second);
      }
      return object;
    }
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (const auto& item : node) {
        array.push_back(node_to_json(item));
      }
      return array;
    }
    case YAML::NodeType::Scalar:
      // Quoted and block scalars carry the tag "!"; plain ones "?".
      if (node.Tag() == "!") {
        return node.Scalar();
      }
      return plain_scalar(node.Scalar());
    default:
      return nullptr;
  }
}

void emit(YAML::Emitter& out, const Json& value, bool literal_blocks) {
  if (value.is_object()) {
    if (value.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (const auto& [key, member] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit(out, member, literal_blocks);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    if (value.empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out << YAML::BeginSeq;
    for (const Json& item : value) {
      emit(out, item, literal_blocks);
    }
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (literal_blocks && text.find('\n') != std::string::npos) {
      out << YAML::Literal << text;
    } else if (!plain_scalar(text).is_string() || text != trim(text)) {
      out << YAML::DoubleQuoted << text;
    } else {
      out << text;
    }
  } else if (value.is_boolean()) {
    out << (value.get<bool>() ? "true" : "false");
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();
  }
}

std::string emit_document(const Json& value, bool literal_blocks) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, value, literal_blocks);
  std::string text = out.c_str();
  if (!text.empty() && text.back() != '\n') {
    text += '\n';
  }
  return text;
}

}  // namespace

Result<Json> yaml_to_json(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return node_to_json(root);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      "line {}, column {}: {}",
                      e.mark.line + 1,
                      e.mark.column + 1,
                      e.msg);
  }
}

std::string json_to_yaml(const Json& value) {
  // Literal blocks read best, but not every string survives one (leading spaces, trailing
  // blanks, carriage returns): when the text does not read back as the value, quote everything.
  std::string text = emit_document(value, true);
  Result<Json> back = yaml_to_json(text);
  if (back && *back == value) {
    return text;
  }
  return emit_document(value, false);
}

}  // namespace kiln::cli
