#include "kiln/cli/output.hpp"

#include <algorithm>
#include <cstdio>

#include "kiln/base/strings.hpp"
#include "kiln/base/time.hpp"
#include "kiln/catalog/aws_error.hpp"
#include "kiln/cli/context.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::cli {

Result<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "json") {
    return OutputFormat::kJson;
  }
  if (name == "table") {
    return OutputFormat::kTable;
  }
  if (name == "yaml") {
    return OutputFormat::kYaml;
  }
  return make_error(
      ErrorCode::kInvalidArgument, "--output {}: expected json, table or yaml", std::string(name));
}

std::shared_ptr<std::string> add_output_option(CLI::App* cmd) {
  auto flag = std::make_shared<std::string>();
  cmd->add_option("--output", *flag, "json (AWS's response), table or yaml")
      ->check(CLI::IsMember({"json", "table", "yaml"}));
  return flag;
}

OutputFormat output_format(const std::string& flag, OutputFormat fallback) {
  Result<OutputFormat> parsed = parse_output_format(flag);
  return parsed ? *parsed : fallback;
}

// --- The resources --------------------------------------------------------------------------

const std::vector<std::string_view>& create_members(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kComponent:
      return state::create_request_members(catalog::ResourceType::kComponent);
    case ResourceKind::kImageRecipe:
      return state::create_request_members(catalog::ResourceType::kImageRecipe);
    case ResourceKind::kInfrastructureConfiguration:
      return state::create_request_members(catalog::ResourceType::kInfrastructureConfiguration);
    case ResourceKind::kDistributionConfiguration:
      return state::create_request_members(catalog::ResourceType::kDistributionConfiguration);
    case ResourceKind::kImage:
      return state::create_request_members(catalog::ResourceType::kImage);
  }
  return state::create_request_members(catalog::ResourceType::kComponent);
}

Json create_request_from(ResourceKind kind, const Json& resource) {
  Json source = resource;
  if (source.contains("version") && !source.contains("semanticVersion")) {
    source["semanticVersion"] = source["version"];
  }
  if (kind == ResourceKind::kImage) {
    // The image holds copies of what it was made from; the request names them by ARN.
    const std::pair<const char*, const char*> copies[] = {
        {"imageRecipe", "imageRecipeArn"},
        {"containerRecipe", "containerRecipeArn"},
        {"infrastructureConfiguration", "infrastructureConfigurationArn"},
        {"distributionConfiguration", "distributionConfigurationArn"}};
    for (const auto& [copy, arn] : copies) {
      if (source.contains(copy) && source[copy].is_object() && source[copy].contains("arn")) {
        source[arn] = source[copy]["arn"];
      }
    }
  }
  Json request = Json::object();
  for (std::string_view member : create_members(kind)) {
    std::string key(member);
    if (source.contains(key) && !source[key].is_null()) {
      request[key] = source[key];
    }
  }
  return request;
}

Status check_members(const Json& request,
                     const std::vector<std::string_view>& allowed,
                     std::string_view operation) {
  if (!request.is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the input of {} must be an object of its request members",
                      std::string(operation));
  }
  for (const auto& [key, value] : request.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    std::string hint = closest_match(key, allowed);
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown parameter in input: \"{}\", must be one of: {}{}",
                      key,
                      join(std::vector<std::string>(allowed.begin(), allowed.end()), ", "),
                      hint.empty() ? "" : " (did you mean \"" + hint + "\"?)");
  }
  return ok_status();
}

// --- Tables ---------------------------------------------------------------------------------

std::string cell_text(const Json* value) {
  if (value == nullptr || value->is_null()) {
    return "-";
  }
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    if (lines > 0) {
      return "(" + std::to_string(lines + (text.back() == '\n' ? 0 : 1)) + " lines)";
    }
    return text.empty() ? "-" : text;
  }
  if (value->is_array()) {
    bool scalars = std::all_of(
        value->begin(), value->end(), [](const Json& item) { return item.is_primitive(); });
    if (scalars) {
      std::vector<std::string> parts;
      for (const Json& item : *value) {
        parts.push_back(item.is_string() ? item.get<std::string>() : item.dump());
      }
      return parts.empty() ? "-" : join(parts, ",");
    }
  }
  return value->dump();
}

std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(headers);
  for (const auto& row : rows) {
    measure(row);
  }
  std::string text;
  auto write = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(widths[i] - row[i].size() + 2, ' ');
      }
    }
    text += line + "\n";
  };
  write(headers);
  for (const auto& row : rows) {
    write(row);
  }
  return text;
}

std::string format_table(const std::vector<Column>& columns, const std::vector<Json>& items) {
  std::vector<std::string> headers;
  for (const Column& column : columns) {
    headers.push_back(column.header);
  }
  std::vector<std::vector<std::string>> rows;
  for (const Json& item : items) {
    std::vector<std::string> row;
    for (const Column& column : columns) {
      Json::json_pointer pointer(column.path);
      row.push_back(cell_text(item.contains(pointer) ? &item.at(pointer) : nullptr));
    }
    rows.push_back(std::move(row));
  }
  return format_table(headers, rows);
}

namespace {

void flatten(const Json& value,
             const std::string& path,
             std::vector<std::vector<std::string>>& rows) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, member] : value.items()) {
      flatten(member, path.empty() ? key : path + "." + key, rows);
    }
  } else if (value.is_array() && !value.empty() &&
             std::any_of(value.begin(), value.end(), [](const Json& item) {
               return item.is_structured();
             })) {
    for (size_t i = 0; i < value.size(); ++i) {
      flatten(value[i], path + "[" + std::to_string(i) + "]", rows);
    }
  } else {
    rows.push_back({path, cell_text(&value)});
  }
}

}  // namespace

std::string format_fields(const Json& object) {
  std::vector<std::vector<std::string>> rows;
  flatten(object, "", rows);
  return format_table({"FIELD", "VALUE"}, rows);
}

// --- Responses ------------------------------------------------------------------------------

std::string new_request_id() {
  return make_uuid_v4();
}

void print_response(const Json& response, OutputFormat format, const std::string& table_text) {
  switch (format) {
    case OutputFormat::kJson:
      std::printf("%s\n", response.dump(4).c_str());
      break;
    case OutputFormat::kYaml:
      std::fputs(json_to_yaml(response).c_str(), stdout);
      break;
    case OutputFormat::kTable:
      std::fputs(table_text.c_str(), stdout);
      break;
  }
}

std::string_view aws_exception_name(ErrorCode code) {
  return catalog::aws_exception_name(code);
}

int report_resource_error(const Error& error) {
  std::string_view name = aws_exception_name(error.code);
  if (name.empty()) {
    return report(error);
  }
  return report(Error{error.code, std::string(name) + ": " + error.message});
}

}  // namespace kiln::cli
