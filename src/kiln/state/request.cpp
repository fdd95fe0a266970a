#include "kiln/state/request.hpp"

#include <algorithm>

#include "kiln/base/strings.hpp"

namespace kiln::state::request {
namespace {

std::string json_key(std::string_view member) {
  return std::string(member);
}

const Json* find(const Json& request, std::string_view member) {
  auto it = request.find(json_key(member));
  return it == request.end() ? nullptr : &*it;
}

Status check_length(std::string_view member, const std::string& value, size_t min, size_t max) {
  if (value.size() < min || value.size() > max) {
    return invalid(member, fmt::format("{} to {} characters, not {}", min, max, value.size()));
  }
  return ok_status();
}

}  // namespace

Error invalid(std::string_view member, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "invalid {}: {}", member, why);
}

std::optional<std::vector<std::string>> plain_absolute_names(std::string_view path) {
  std::vector<std::string> names;
  if (path.empty() || path.front() != '/') {
    return std::nullopt;
  }
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (path.empty()) {
    return names;
  }
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view name = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (name.empty() || name == "." || name == ".." || name.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    names.emplace_back(name);
    if (end == std::string_view::npos) {
      return names;
    }
    start = end + 1;
  }
}

Status check_members(const Json& request,
                     std::string_view what,
                     std::initializer_list<std::string_view> allowed) {
  if (!request.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: expected a JSON object", what);
  }
  for (const auto& [key, value] : request.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: unknown member \"{}\"", what, key);
    }
  }
  return ok_status();
}

Status check_create_members(const Json& request,
                            std::string_view what,
                            catalog::ResourceType type) {
  if (!request.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: expected a JSON object", what);
  }
  const std::vector<std::string_view>& allowed = create_request_members(type);
  for (const auto& [key, value] : request.items()) {
    if (key != "clientToken" && key != "dryRun" &&
        std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: unknown member \"{}\"", what, key);
    }
  }
  return ok_status();
}

Result<std::string> required_string(const Json& request,
                                    std::string_view member,
                                    size_t min,
                                    size_t max) {
  std::optional<std::string> value = KILN_TRY(optional_string(request, member, min, max));
  if (!value) {
    return invalid(member, "required");
  }
  return *value;
}

Result<std::optional<std::string>> optional_string(const Json& request,
                                                   std::string_view member,
                                                   size_t min,
                                                   size_t max) {
  const Json* value = find(request, member);
  if (value == nullptr) {
    return std::optional<std::string>();
  }
  if (!value->is_string()) {
    return invalid(member, "expected a string");
  }
  std::string text = value->get<std::string>();
  KILN_TRY(check_length(member, text, min, max));
  return std::optional<std::string>(std::move(text));
}

Status optional_bool(const Json& request, std::string_view member) {
  const Json* value = find(request, member);
  if (value != nullptr && !value->is_boolean()) {
    return invalid(member, "expected true or false");
  }
  return ok_status();
}

Status optional_integer(const Json& request, std::string_view member, int64_t min, int64_t max) {
  const Json* value = find(request, member);
  if (value == nullptr) {
    return ok_status();
  }
  if (!value->is_number_integer()) {
    return invalid(member, "expected an integer");
  }
  int64_t number = value->get<int64_t>();
  if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(max)) {
    number = max + 1;
  }
  if (number < min || number > max) {
    return invalid(member, fmt::format("expected {} to {}", min, max));
  }
  return ok_status();
}

Status optional_object(const Json& request, std::string_view member) {
  const Json* value = find(request, member);
  if (value != nullptr && !value->is_object()) {
    return invalid(member, "expected an object");
  }
  return ok_status();
}

Status optional_array(const Json& request, std::string_view member) {
  const Json* value = find(request, member);
  if (value != nullptr && !value->is_array()) {
    return invalid(member, "expected a list");
  }
  return ok_status();
}

Status optional_string_list(const Json& request, std::string_view member, size_t min, size_t max) {
  const Json* value = find(request, member);
  if (value == nullptr) {
    return ok_status();
  }
  if (!value->is_array()) {
    return invalid(member, "expected a list of strings");
  }
  if (value->size() < min || value->size() > max) {
    return invalid(member, fmt::format("{} to {} entries, not {}", min, max, value->size()));
  }
  for (const Json& item : *value) {
    if (!item.is_string() || item.get<std::string>().empty()) {
      return invalid(member, "every entry is a non-empty string");
    }
  }
  return ok_status();
}

Status optional_tags(const Json& request, std::string_view member, size_t max) {
  const Json* value = find(request, member);
  if (value == nullptr) {
    return ok_status();
  }
  if (!value->is_object()) {
    return invalid(member, "expected an object of string values");
  }
  if (value->size() > max) {
    return invalid(member, fmt::format("at most {} tags, not {}", max, value->size()));
  }
  for (const auto& [key, tag] : value->items()) {
    if (key.empty() || key.size() > 128) {
      return invalid(member, fmt::format("tag key \"{}\": 1 to 128 characters", key));
    }
    if (!tag.is_string() || tag.get<std::string>().size() > 256) {
      return invalid(member, fmt::format("tag \"{}\": a string of at most 256 characters", key));
    }
  }
  return ok_status();
}

void copy_member(Json& to, const Json& from, std::string_view member) {
  const Json* value = find(from, member);
  if (value != nullptr) {
    to[json_key(member)] = *value;
  }
}

Result<std::vector<Filter>> parse_filters(const Json& filters,
                                          std::initializer_list<std::string_view> allowed) {
  if (!filters.is_array()) {
    return invalid("filters", "expected a list of {name, values}");
  }
  std::vector<Filter> out;
  for (const Json& entry : filters) {
    KILN_TRY_CTX(check_members(entry, "filter", {"name", "values"}), "invalid filters");
    Filter filter;
    filter.name = KILN_TRY_CTX(required_string(entry, "name", 1, 128), "invalid filters");
    if (std::find(allowed.begin(), allowed.end(), filter.name) == allowed.end()) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return invalid(
          "filters",
          fmt::format(
              "unknown filter \"{}\" (this call filters on {})", filter.name, join(names, ", ")));
    }
    KILN_TRY_CTX(optional_string_list(entry, "values", 1, 10), "invalid filters");
    if (!entry.contains("values")) {
      return invalid("filters", fmt::format("filter \"{}\" has no values", filter.name));
    }
    filter.values = entry.at("values").get<std::vector<std::string>>();
    out.push_back(std::move(filter));
  }
  return out;
}

bool matches(const std::vector<Filter>& filters, const Json& object) {
  for (const Filter& filter : filters) {
    auto it = object.find(filter.name);
    if (it == object.end() || !it->is_string()) {
      return false;
    }
    const std::string& value = it->get_ref<const std::string&>();
    if (std::find(filter.values.begin(), filter.values.end(), value) == filter.values.end()) {
      return false;
    }
  }
  return true;
}

Result<std::optional<std::string>> query_owner(const ListQuery& query,
                                               const std::string& account_id) {
  if (query.owner == "Self") {
    return std::optional<std::string>(account_id);
  }
  if (query.owner == "Amazon") {
    return std::optional<std::string>(std::string(kManagedOwner));
  }
  if (query.owner == "Shared" || query.owner == "ThirdParty" || query.owner == "AWSMarketplace") {
    return std::optional<std::string>();
  }
  return invalid("owner",
                 fmt::format("\"{}\" is not one of Self, Shared, Amazon, ThirdParty, "
                             "AWSMarketplace",
                             query.owner));
}

}  // namespace kiln::state::request
