#include <charconv>
#include <cstdlib>

#include "kiln/toe/action.hpp"

namespace kiln::toe {

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
  };
}

EnvLookup fixed_env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::string input_string(const Json& object, std::string_view key, std::string_view fallback) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    return std::string(fallback);
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  return it->dump();
}

Result<bool> input_bool(const Json& object, std::string_view key, bool fallback) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    return fallback;
  }
  if (it->is_boolean()) {
    return it->get<bool>();
  }
  std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  return make_error(
      ErrorCode::kInvalidArgument, "input '{}' must be true or false, got '{}'", key, text);
}

Result<int64_t> input_int(const Json& object, std::string_view key, int64_t fallback) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    return fallback;
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return make_error(
        ErrorCode::kInvalidArgument, "input '{}' must be an integer, got '{}'", key, text);
  }
  return value;
}

std::vector<std::string> input_string_list(const Json& object, std::string_view key) {
  std::vector<std::string> out;
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    return out;
  }
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  for (const Json& item : *it) {
    out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  }
  return out;
}

std::optional<std::string> interrupted(const ActionContext& context) {
  if (context.cancel != nullptr && context.cancel->load()) {
    return "cancelled";
  }
  if (context.deadline && std::chrono::steady_clock::now() >= *context.deadline) {
    return fmt::format("step timed out after {} seconds", context.step.timeout_seconds);
  }
  return std::nullopt;
}

Status check_interrupted(const ActionContext& context) {
  if (std::optional<std::string> stop = interrupted(context)) {
    return Error{ErrorCode::kCancelled, *stop};
  }
  return ok_status();
}

}  // namespace kiln::toe
