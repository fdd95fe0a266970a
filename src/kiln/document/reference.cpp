#include "kiln/document/reference.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "kiln/base/strings.hpp"

namespace kiln::document {
namespace {

constexpr std::string_view kContextKeys[] = {"executionId",
                                             "accountId",
                                             "region",
                                             "osPlatform",
                                             "osName",
                                             "osVersion",
                                             "date",
                                             "dateTime",
                                             "uuid",
                                             "hostname",
                                             "phase",
                                             "step"};

bool is_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

Reference prefixed(Reference::Kind kind, std::string_view inner, std::string_view prefix) {
  Reference ref;
  ref.kind = kind;
  ref.text = std::string(inner);
  ref.name = std::string(trim(inner.substr(prefix.size())));
  if (ref.name.empty()) {
    ref.kind = Reference::Kind::kInvalid;
  }
  return ref;
}

// "inputs" or "inputs[3]" -> true and the optional index.
bool parse_inputs_part(std::string_view part, std::optional<size_t>& index) {
  if (part == "inputs") {
    return true;
  }
  if (!starts_with(part, "inputs[") || !ends_with(part, "]")) {
    return false;
  }
  std::string_view digits = part.substr(7, part.size() - 8);
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    return false;
  }
  index = value;
  return true;
}

Reference classify_dotted(std::string_view inner) {
  Reference ref;
  ref.text = std::string(inner);
  std::vector<std::string> parts = split(inner, '.');
  if (parts.size() == 1 && is_identifier(parts[0])) {
    ref.kind = Reference::Kind::kVariable;
    ref.name = parts[0];
  } else if (parts.size() == 2 && is_identifier(parts[0]) &&
             (parts[1] == "index" || parts[1] == "value")) {
    ref.kind = Reference::Kind::kLoop;
    ref.name = parts[0];
    ref.field = parts[1];
  } else if (parts.size() == 4 && is_identifier(parts[0]) && !parts[1].empty() &&
             is_identifier(parts[3])) {
    ref.phase = parts[0];
    ref.step = parts[1];
    ref.field = parts[3];
    if (parts[2] == "outputs") {
      ref.kind = Reference::Kind::kChainOutput;
    } else if (parse_inputs_part(parts[2], ref.index)) {
      ref.kind = Reference::Kind::kChainInput;
    }
  }
  return ref;
}

}  // namespace

Reference classify_reference(std::string_view inner) {
  inner = trim(inner);
  if (starts_with(inner, "env:")) {
    return prefixed(Reference::Kind::kEnv, inner, "env:");
  }
  if (starts_with(inner, "context:")) {
    return prefixed(Reference::Kind::kContext, inner, "context:");
  }
  if (starts_with(inner, "aws:ssm:")) {
    return prefixed(Reference::Kind::kSsm, inner, "aws:ssm:");
  }
  if (starts_with(inner, "aws:imds:")) {
    return prefixed(Reference::Kind::kImds, inner, "aws:imds:");
  }
  return classify_dotted(inner);
}

std::vector<TemplatePart> parse_template(std::string_view text) {
  std::vector<TemplatePart> parts;
  size_t pos = 0;
  auto add_literal = [&](size_t from, size_t to) {
    if (to > from) {
      parts.push_back(TemplatePart{false, std::string(text.substr(from, to - from)), {}, from});
    }
  };
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    size_t close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      break;
    }
    add_literal(pos, open);
    std::string_view inner = text.substr(open + 2, close - open - 2);
    parts.push_back(TemplatePart{
        true, std::string(text.substr(open, close + 2 - open)), classify_reference(inner), open});
    pos = close + 2;
  }
  add_literal(pos, text.size());
  return parts;
}

bool has_references(std::string_view text) {
  size_t open = text.find("{{");
  return open != std::string_view::npos && text.find("}}", open + 2) != std::string_view::npos;
}

std::string render_template(std::string_view text, const ReferenceResolver& resolve) {
  if (!has_references(text)) {
    return std::string(text);
  }
  std::string out;
  for (const TemplatePart& part : parse_template(text)) {
    if (!part.is_reference) {
      out += part.text;
      continue;
    }
    std::optional<std::string> value = resolve(part.reference);
    out += value ? *value : part.text;
  }
  return out;
}

bool is_valid_variable_name(std::string_view name) {
  return name.size() >= 3 && name.size() <= 128 && is_identifier(name);
}

bool is_known_context_key(std::string_view key) {
  return std::find(std::begin(kContextKeys), std::end(kContextKeys), key) != std::end(kContextKeys);
}

}  // namespace kiln::document
