#include "kiln/toe/config.hpp"

#include <algorithm>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::toe {
namespace {

Result<ParameterList> parameters_from_json(const Json& list, const std::string& where) {
  ParameterList out;
  if (!list.is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: must be a list of {{name, value}}", where);
  }
  for (const Json& item : list) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("value")) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: each parameter needs a string 'name' and a 'value'",
                        where);
    }
    const Json& value = item["value"];
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_array() && value.size() == 1 && value[0].is_string()) {
      text = value[0].get<std::string>();  // the recipe form: value: ["x"]
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: parameter '{}' must have a string value",
                        where,
                        item["name"].get<std::string>());
    }
    out.emplace_back(item["name"].get<std::string>(), text);
  }
  return out;
}

constexpr std::string_view kKnownKeys[] = {"documents",
                                           "parameters",
                                           "phases",
                                           "cwIgnoreFailures",
                                           "cwLogGroup",
                                           "cwLogRegion",
                                           "cwLogStream",
                                           "documentS3BucketOwner",
                                           "executionId",
                                           "executonId",
                                           "logDirectory",
                                           "logS3BucketName",
                                           "logS3BucketOwner",
                                           "logS3KeyPrefix",
                                           "stateDirectory",
                                           "trace"};

Status check_keys(const Json& root, const std::string& path) {
  std::vector<std::string_view> known(std::begin(kKnownKeys), std::end(kKnownKeys));
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string hint = closest_match(it.key(), known);
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: unknown key '{}'{}",
                        path,
                        it.key(),
                        hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
    }
  }
  return ok_status();
}

Result<std::string> string_key(const Json& root, const char* key, const std::string& path) {
  if (!root.contains(key)) {
    return std::string();
  }
  if (!root[key].is_string()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' must be a string", path, key);
  }
  return root[key].get<std::string>();
}

Status read_documents(const Json& root, const std::string& path, RunOptions& options) {
  if (!root.contains("documents")) {
    return ok_status();
  }
  if (!root["documents"].is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: 'documents' must be a list", path);
  }
  for (const Json& d : root["documents"]) {
    if (!d.is_object() || !d.contains("path") || !d["path"].is_string()) {
      return make_error(
          ErrorCode::kInvalidArgument, "{}: each document needs a string 'path'", path);
    }
    DocumentSource source{d["path"].get<std::string>(), {}};
    if (d.contains("parameters")) {
      source.parameters =
          KILN_TRY(parameters_from_json(d["parameters"], path + ": parameters of " + source.path));
    }
    options.documents.push_back(std::move(source));
  }
  return ok_status();
}

// The execution id names the log folder: it must be one plain folder-name part.
Status check_execution_id(const std::string& id) {
  bool bad = id == "." || id == ".." || id.size() > 200 ||
             id.find_first_of(std::string_view("/\0", 2)) != std::string::npos;
  if (bad) {
    return make_error(ErrorCode::kInvalidArgument,
                      "execution id '{}' must be a plain name (no '/', not '.' or '..')",
                      id);
  }
  return ok_status();
}

}  // namespace

Result<ParameterList> parse_parameter_list(const std::string& text) {
  ParameterList out;
  for (const std::string& item : parse_comma_list(text)) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error(ErrorCode::kInvalidArgument, "--parameters: '{}' is not name=value", item);
    }
    if (eq + 1 == item.size()) {
      return make_error(
          ErrorCode::kInvalidArgument, "--parameters: '{}' has an empty value", item.substr(0, eq));
    }
    out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

std::vector<std::string> parse_comma_list(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& item : split(text, ',')) {
    std::string_view t = trim(item);
    if (!t.empty()) {
      out.emplace_back(t);
    }
  }
  return out;
}

Result<RunOptions> load_run_config(const std::string& json_text, const std::string& path) {
  Json root = Json::parse(json_text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: not a JSON object", path);
  }
  KILN_TRY(check_keys(root, path));
  RunOptions options;
  KILN_TRY(read_documents(root, path, options));
  if (root.contains("parameters")) {
    options.parameters = KILN_TRY(parameters_from_json(root["parameters"], path + ": parameters"));
  }
  if (root.contains("phases")) {
    const Json& phases = root["phases"];
    if (phases.is_string()) {
      options.phases = parse_comma_list(phases.get<std::string>());
    } else if (phases.is_array() && std::all_of(phases.begin(), phases.end(), [](const Json& p) {
                 return p.is_string();
               })) {
      for (const Json& p : phases) {
        options.phases.push_back(p.get<std::string>());
      }
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: 'phases' must be a string (\"build,validate\") or a list of strings",
                        path);
    }
  }
  std::string id = KILN_TRY(string_key(root, "executionId", path));
  options.execution_id = id.empty() ? KILN_TRY(string_key(root, "executonId", path)) : id;
  std::string log_dir = KILN_TRY(string_key(root, "logDirectory", path));
  if (!log_dir.empty()) {
    options.log_directory = log_dir;
  }
  options.state_directory = KILN_TRY(string_key(root, "stateDirectory", path));
  options.log_s3_bucket = KILN_TRY(string_key(root, "logS3BucketName", path));
  options.log_s3_prefix = KILN_TRY(string_key(root, "logS3KeyPrefix", path));
  if (root.contains("trace") && !root["trace"].is_boolean()) {
    return make_error(ErrorCode::kInvalidArgument, "{}: 'trace' must be true or false", path);
  }
  options.trace = root.value("trace", false);
  for (const char* key : {"cwLogGroup", "cwLogStream", "cwLogRegion", "cwIgnoreFailures"}) {
    if (root.contains(key)) {
      options.warnings.push_back(
          fmt::format("{}: '{}' ignored: kiln-toe does not stream to CloudWatch", path, key));
    }
  }
  return options;
}

Result<RunOptions> resolve_run_options(const RunFlags& flags) {
  RunOptions options;
  if (flags.config) {
    std::string text = KILN_TRY_CTX(read_file(*flags.config), "reading --config");
    options = KILN_TRY(load_run_config(text, *flags.config));
    if (flags.documents && !options.documents.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "documents are given both by --documents and in {}",
                        *flags.config);
    }
    if (flags.parameters && !options.parameters.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "parameters are given both by --parameters and in {}",
                        *flags.config);
    }
  }
  if (flags.documents) {
    for (const std::string& path : parse_comma_list(*flags.documents)) {
      options.documents.push_back({path, {}});
    }
  }
  if (flags.parameters) {
    options.parameters = KILN_TRY(parse_parameter_list(*flags.parameters));
  }
  if (flags.phases) {
    options.phases = parse_comma_list(*flags.phases);
  }
  options.execution_id = flags.execution_id.value_or(options.execution_id);
  if (flags.log_directory) {
    options.log_directory = *flags.log_directory;
  }
  if (flags.state_directory) {
    options.state_directory = *flags.state_directory;
  }
  options.log_s3_bucket = flags.log_s3_bucket.value_or(options.log_s3_bucket);
  options.log_s3_prefix = flags.log_s3_prefix.value_or(options.log_s3_prefix);
  options.trace = options.trace || flags.trace;
  for (const std::string& flag : flags.ignored) {
    options.warnings.push_back(fmt::format("{} ignored: kiln-toe does not use CloudWatch", flag));
  }
  if (options.documents.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no documents to run: pass --documents a.yaml,b.yaml or --config FILE");
  }
  KILN_TRY(check_execution_id(options.execution_id));
  // Absolute, so logUrl and a saved state mean the same place from any working directory.
  std::error_code ec;
  options.log_directory = std::filesystem::absolute(options.log_directory, ec);
  if (!options.state_directory.empty()) {
    options.state_directory = std::filesystem::absolute(options.state_directory, ec);
  }
  return options;
}

}  // namespace kiln::toe
