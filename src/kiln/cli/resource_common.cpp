#include "kiln/cli/resource_common.hpp"

#include <cctype>

#include "kiln/api/operations.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::cli {

std::string member_name(std::string_view flag) {
  while (!flag.empty() && flag.front() == '-') {
    flag.remove_prefix(1);
  }
  std::string name;
  bool upper = false;
  for (char c : flag) {
    if (c == '-') {
      upper = true;
    } else {
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return name;
}

Result<std::string> parameter_text(const std::string& value) {
  if (starts_with(value, "file://")) {
    return read_file(value.substr(7));
  }
  return value;
}

Result<Json> parse_tags(const std::string& value) {
  std::string text = KILN_TRY(parameter_text(value));
  if (starts_with(trim(text), "{")) {
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return make_error(ErrorCode::kInvalidArgument, "--tags: not a JSON object: {}", text);
    }
    return parsed;
  }
  Json tags = Json::object();
  for (const std::string& pair : split(text, ',')) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--tags: expected KEY=VALUE[,KEY=VALUE...], got \"{}\"",
                        pair);
    }
    tags[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return tags;
}

Result<Json> parse_filters(const std::vector<std::string>& values) {
  Json filters = Json::array();
  for (const std::string& value : values) {
    std::string text = KILN_TRY(parameter_text(value));
    if (starts_with(trim(text), "[") || starts_with(trim(text), "{")) {
      Json parsed = Json::parse(text, nullptr, false);
      if (parsed.is_discarded()) {
        return make_error(ErrorCode::kInvalidArgument, "--filters: not JSON: {}", text);
      }
      for (Json& filter : parsed.is_array() ? parsed : Json::array({parsed})) {
        filters.push_back(filter);
      }
      continue;
    }
    // name=N,values=V1,V2: every word after values= is a value.
    Json filter = Json::object();
    bool in_values = false;
    for (const std::string& word : split(text, ',')) {
      if (starts_with(word, "name=")) {
        filter["name"] = word.substr(5);
        in_values = false;
      } else if (starts_with(word, "values=")) {
        filter["values"] = Json::array({word.substr(7)});
        in_values = true;
      } else if (in_values) {
        filter["values"].push_back(word);
      } else {
        return make_error(ErrorCode::kInvalidArgument,
                          "--filters: expected name=NAME,values=V1[,V2...], got \"{}\"",
                          text);
      }
    }
    if (!filter.contains("name") || !filter.contains("values")) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--filters: expected name=NAME,values=V1[,V2...], got \"{}\"",
                        text);
    }
    filters.push_back(filter);
  }
  return filters;
}

// --- RequestOptions -------------------------------------------------------------------------

RequestOptions::RequestOptions(CLI::App* cmd,
                               std::string operation,
                               std::vector<std::string_view> members)
    : cmd_(cmd), operation_(std::move(operation)), members_(std::move(members)) {
  cmd_->add_option("--cli-input-json",
                   *json_file_,
                   "The request as JSON: a file (or file://FILE), AWS's member names");
  cmd_->add_option("--cli-input-yaml",
                   *yaml_file_,
                   "The request as YAML: a file (or file://FILE), AWS's member names");
  cmd_->add_option("--client-token", *client_token_, "Idempotency token (accepted, not used)");
}

void RequestOptions::add_string(const std::string& flag,
                                const std::string& help,
                                bool file_allowed) {
  Flag f{member_name(flag), Flag::Kind::kString};
  f.file_allowed = file_allowed;
  f.option = cmd_->add_option(flag, *f.value, help);
  flags_.push_back(std::move(f));
}

void RequestOptions::add_strings(const std::string& flag, const std::string& help) {
  Flag f{member_name(flag), Flag::Kind::kStrings};
  f.option = cmd_->add_option(flag, *f.values, help);
  flags_.push_back(std::move(f));
}

void RequestOptions::add_bool(const std::string& flag, const std::string& help) {
  Flag f{member_name(flag), Flag::Kind::kBool};
  auto target = f.flag;
  std::string negated = "--no-" + flag.substr(2);
  f.option = cmd_->add_flag_function(
      flag + ",!" + negated, [target](int64_t count) { *target = count > 0; }, help);
  flags_.push_back(std::move(f));
}

void RequestOptions::add_map(const std::string& flag, const std::string& help) {
  Flag f{member_name(flag), Flag::Kind::kMap};
  f.option = cmd_->add_option(flag, *f.value, help);
  flags_.push_back(std::move(f));
}

void RequestOptions::add_json(const std::string& flag, const std::string& help) {
  Flag f{member_name(flag), Flag::Kind::kJson};
  f.option = cmd_->add_option(flag, *f.value, help);
  flags_.push_back(std::move(f));
}

namespace {

// An input file's text: "file://F" or a path is read; text starting like a document is itself.
Result<std::string> input_text(const std::string& value, std::string_view flag) {
  std::string_view trimmed = trim(value);
  if (!starts_with(value, "file://") &&
      (starts_with(trimmed, "{") || value.find('\n') != std::string::npos)) {
    return value;
  }
  std::string path = starts_with(value, "file://") ? value.substr(7) : value;
  return KILN_TRY_CTX(read_file(path), fmt::format("{} {}", flag, path));
}

}  // namespace

Result<Json> RequestOptions::build() const {
  Json request = Json::object();
  if (!json_file_->empty() && !yaml_file_->empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--cli-input-json and --cli-input-yaml: give one of them");
  }
  if (!json_file_->empty()) {
    std::string text = KILN_TRY(input_text(*json_file_, "--cli-input-json"));
    request = Json::parse(text, nullptr, false);
    if (request.is_discarded()) {
      return make_error(
          ErrorCode::kInvalidArgument, "--cli-input-json {}: not valid JSON", *json_file_);
    }
  } else if (!yaml_file_->empty()) {
    std::string text = KILN_TRY(input_text(*yaml_file_, "--cli-input-yaml"));
    request = KILN_TRY_CTX(yaml_to_json(text), "--cli-input-yaml " + *yaml_file_);
    if (request.is_null()) {
      request = Json::object();
    }
  }
  std::vector<std::string_view> allowed = members_;
  allowed.push_back("clientToken");
  allowed.push_back("dryRun");
  KILN_TRY(check_members(request, allowed, operation_));

  for (const Flag& f : flags_) {
    if (f.option->count() == 0) {
      continue;
    }
    switch (f.kind) {
      case Flag::Kind::kString:
        request[f.member] = f.file_allowed ? KILN_TRY(parameter_text(*f.value)) : *f.value;
        break;
      case Flag::Kind::kStrings:
        request[f.member] = *f.values;
        break;
      case Flag::Kind::kBool:
        request[f.member] = f.flag->value_or(true);
        break;
      case Flag::Kind::kMap:
        request[f.member] = KILN_TRY(parse_tags(*f.value));
        break;
      case Flag::Kind::kJson: {
        std::string text = KILN_TRY(parameter_text(*f.value));
        Json parsed = Json::parse(text, nullptr, false);
        if (parsed.is_discarded()) {
          return make_error(ErrorCode::kInvalidArgument,
                            "--{}: not valid JSON: {}",
                            f.option->get_name(false, true),
                            text);
        }
        request[f.member] = parsed;
        break;
      }
    }
  }
  if (!client_token_->empty()) {
    request["clientToken"] = *client_token_;
  } else if (!request.contains("clientToken")) {
    request["clientToken"] = new_request_id();
  }
  return request;
}

// --- Generic verbs --------------------------------------------------------------------------

int with_catalog(Context& context, const CatalogFn& fn) {
  Result<state::Catalog*> catalog = context.catalog();
  if (!catalog) {
    return report_resource_error(catalog.error());
  }
  return fn(**catalog);
}

std::string result_member(std::string_view operation) {
  const api::Operation* op = api::find_operation_named(operation);
  return op != nullptr ? std::string(op->result_member) : std::string();
}

Result<Json> call_all_pages(ResourceClient& client, std::string_view operation, Json request) {
  std::string member = result_member(operation);
  Json all = KILN_TRY(client.call(operation, request));
  while (all.contains("nextToken") && all["nextToken"].is_string()) {
    request["nextToken"] = all["nextToken"];
    Json page = KILN_TRY(client.call(operation, request));
    for (Json& item : page[member]) {
      all[member].push_back(std::move(item));
    }
    all["nextToken"] = page.contains("nextToken") ? page["nextToken"] : Json();
  }
  all.erase("nextToken");
  return all;
}

int call_and_print(Context& context,
                   std::string_view operation,
                   const Json& request,
                   OutputFormat format,
                   const TableFn& table) {
  Result<std::unique_ptr<ResourceClient>> client = open_resource_client(context);
  if (!client) {
    return report_resource_error(client.error());
  }
  Result<Json> response = starts_with(operation, "List")
                              ? call_all_pages(**client, operation, request)
                              : (*client)->call(operation, request);
  if (!response) {
    return report(response.error());
  }
  print_response(*response, format, table(*response));
  return 0;
}

TableFn arn_text(std::string_view operation) {
  return [member = result_member(operation)](const Json& response) {
    return response.value(member, "") + "\n";
  };
}

Verb add_request_verb(CLI::App& app, RequestSpec spec) {
  CLI::App* cmd = app.add_subcommand(spec.command, spec.help);
  auto request = std::make_shared<RequestOptions>(cmd, spec.operation, std::move(spec.members));
  spec.flags(*request);
  auto output = add_output_option(cmd);
  return {cmd, [request, output, operation = spec.operation](Context& context) {
            Result<Json> body = request->build();
            if (!body) {
              return report_resource_error(body.error());
            }
            return call_and_print(context,
                                  operation,
                                  *body,
                                  output_format(*output, OutputFormat::kJson),
                                  arn_text(operation));
          }};
}

Verb add_get_verb(CLI::App& app, GetSpec spec) {
  auto arn = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(spec.command, spec.help);
  cmd->add_option(spec.arn_flag, *arn, "The resource's ARN")->required();
  auto output = add_output_option(cmd);
  return {cmd, [spec = std::move(spec), arn, output](Context& context) {
            OutputFormat format = output_format(*output, OutputFormat::kJson);
            std::string member = result_member(spec.operation);
            if (format == OutputFormat::kYaml) {
              // The resource written back as its create request, not the response.
              Result<std::unique_ptr<ResourceClient>> client = open_resource_client(context);
              Result<Json> found =
                  client ? (*client)->call(spec.operation, {{member_name(spec.arn_flag), *arn}})
                         : Result<Json>(client.error());
              if (!found) {
                return report(found.error());
              }
              std::fputs(json_to_yaml(create_request_from(spec.kind, (*found)[member])).c_str(),
                         stdout);
              return 0;
            }
            return call_and_print(
                context,
                spec.operation,
                {{member_name(spec.arn_flag), *arn}},
                format,
                [&](const Json& response) { return format_fields(response[member]); });
          }};
}

Verb add_list_verb(CLI::App& app, ListSpec spec) {
  auto owner = std::make_shared<std::string>("Self");
  auto filters = std::make_shared<std::vector<std::string>>();
  auto arn = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(spec.command, spec.help);
  if (spec.has_owner) {
    cmd->add_option("--owner", *owner, "Self (default) or Amazon (the managed components)")
        ->check(CLI::IsMember({"Self", "Shared", "Amazon", "ThirdParty", "AWSMarketplace"}));
  }
  if (spec.has_filters) {
    cmd->add_option("--filters", *filters, "name=NAME,values=V1[,V2...] (repeatable) or JSON");
  }
  if (!spec.arn_flag.empty()) {
    cmd->add_option(spec.arn_flag, *arn, "The version ARN")->required();
  }
  auto output = add_output_option(cmd);
  return {cmd, [spec = std::move(spec), owner, filters, arn, output](Context& context) {
            Json request = Json::object();
            if (spec.has_owner) {
              request["owner"] = *owner;
            }
            if (!filters->empty()) {
              Result<Json> parsed = parse_filters(*filters);
              if (!parsed) {
                return report_resource_error(parsed.error());
              }
              request["filters"] = *parsed;
            }
            if (!spec.arn_flag.empty()) {
              request[member_name(spec.arn_flag)] = *arn;
            }
            std::string member = result_member(spec.operation);
            return call_and_print(context,
                                  spec.operation,
                                  request,
                                  output_format(*output, OutputFormat::kTable),
                                  [&](const Json& response) {
                                    std::vector<Json> items(response[member].begin(),
                                                            response[member].end());
                                    return format_table(spec.columns, items);
                                  });
          }};
}

Verb add_delete_verb(CLI::App& app, DeleteSpec spec) {
  auto arn = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(spec.command, spec.help);
  cmd->add_option(spec.arn_flag, *arn, "The resource's ARN")->required();
  auto output = add_output_option(cmd);
  return {cmd, [spec = std::move(spec), arn, output](Context& context) {
            return call_and_print(context,
                                  spec.operation,
                                  {{member_name(spec.arn_flag), *arn}},
                                  output_format(*output, OutputFormat::kJson),
                                  arn_text(spec.operation));
          }};
}

}  // namespace kiln::cli
