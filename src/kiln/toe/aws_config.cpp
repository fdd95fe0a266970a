#include "kiln/toe/aws_config.hpp"

#include <cctype>
#include <map>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::toe {
namespace fs = std::filesystem;

namespace {

using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

// "[profile  x]" -> "profile x"; other names are only trimmed.
std::string section_name(std::string_view inner) {
  inner = trim(inner);
  if (starts_with(inner, "profile") && inner.size() > 7 && std::isspace(inner[7]) != 0) {
    return fmt::format("profile {}", trim(inner.substr(7)));
  }
  return std::string(inner);
}

// The AWS CLI's INI dialect: [sections], key = value, full-line # and ; comments, and nested
// blocks ("s3 =" followed by indented "key = value" lines) stored as "s3.key".
IniFile parse_ini(std::string_view text) {
  IniFile file;
  IniSection* section = nullptr;
  std::string parent;
  for (const std::string& raw : split(text, '\n')) {
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      section = &file[section_name(line.substr(1, line.size() - 2))];
      parent.clear();
      continue;
    }
    size_t eq = line.find('=');
    if (section == nullptr || eq == std::string_view::npos) {
      continue;
    }
    std::string key = to_lower(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (indented && !parent.empty()) {
      (*section)[fmt::format("{}.{}", parent, key)] = value;
      continue;
    }
    parent = value.empty() ? key : "";
    (*section)[key] = value;
  }
  return file;
}

// A variable's value when it is set and not empty.
std::optional<std::string> env_value(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env ? env(name) : std::nullopt;
  if (value && trim(*value).empty()) {
    return std::nullopt;
  }
  return value ? std::optional<std::string>(std::string(trim(*value))) : std::nullopt;
}

std::optional<fs::path> aws_file(const EnvLookup& env,
                                 std::string_view variable,
                                 std::string_view default_name) {
  std::optional<std::string> home = env_value(env, "HOME");
  if (std::optional<std::string> set = env_value(env, variable)) {
    if (starts_with(*set, "~/") && home) {
      return fs::path(*home) / set->substr(2);
    }
    return fs::path(*set);
  }
  if (!home) {
    return std::nullopt;
  }
  return fs::path(*home) / ".aws" / default_name;
}

// A missing file reads as empty.
Result<IniFile> read_ini(const std::optional<fs::path>& path) {
  if (!path) {
    return IniFile{};
  }
  Result<std::string> text = read_file(*path);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      return IniFile{};
    }
    return text.error().with_context("reading AWS settings");
  }
  return parse_ini(*text);
}

struct AwsProfile {
  std::string name;
  IniSection config;       // [profile NAME] (or [default]) of the config file
  IniSection credentials;  // [NAME] of the credentials file
  IniSection services;     // the [services X] section that the profile's `services` names
};

const IniSection* find_section(const IniFile& file, const std::string& name) {
  auto it = file.find(name);
  return it == file.end() ? nullptr : &it->second;
}

Result<AwsProfile> load_profile(const EnvLookup& env) {
  std::optional<std::string> named = env_value(env, "AWS_PROFILE");
  if (!named) {
    named = env_value(env, "AWS_DEFAULT_PROFILE");
  }
  AwsProfile profile{named.value_or("default"), {}, {}, {}};
  IniFile config = KILN_TRY(read_ini(aws_file(env, "AWS_CONFIG_FILE", "config")));
  IniFile credentials =
      KILN_TRY(read_ini(aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")));
  const IniSection* c = find_section(config, "profile " + profile.name);
  if (c == nullptr && profile.name == "default") {
    c = find_section(config, "default");
  }
  const IniSection* k = find_section(credentials, profile.name);
  if (named && c == nullptr && k == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      "the AWS profile '{}' is in neither {} nor {}",
                      profile.name,
                      "the config file",
                      "the credentials file");
  }
  profile.config = c != nullptr ? *c : IniSection{};
  profile.credentials = k != nullptr ? *k : IniSection{};
  auto services = profile.config.find("services");
  if (services != profile.config.end()) {
    const IniSection* s = find_section(config, "services " + services->second);
    profile.services = s != nullptr ? *s : IniSection{};
  }
  return profile;
}

std::string setting(const IniSection& section, const std::string& key) {
  auto it = section.find(key);
  return it == section.end() ? std::string() : it->second;
}

struct Keys {
  std::string id;
  std::string secret;
  std::string token;
};

// Keys from one source: none, both (with an optional token), or an error naming what is missing.
Result<std::optional<Keys>> complete_keys(Keys keys, std::string_view source) {
  if (keys.id.empty() && keys.secret.empty()) {
    return std::optional<Keys>();
  }
  if (keys.id.empty() || keys.secret.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "partial AWS credentials in {}: missing {}",
                      source,
                      keys.id.empty() ? "the access key id" : "the secret access key");
  }
  return std::optional<Keys>(std::move(keys));
}

Result<std::optional<Keys>> keys_from_section(const IniSection& s, std::string_view source) {
  return complete_keys(Keys{setting(s, "aws_access_key_id"),
                            setting(s, "aws_secret_access_key"),
                            setting(s, "aws_session_token")},
                       source);
}

Status refuse_unsupported_provider(const AwsProfile& profile) {
  for (const char* key : {"role_arn",
                          "credential_process",
                          "sso_session",
                          "sso_start_url",
                          "web_identity_token_file"}) {
    if (!setting(profile.config, key).empty() || !setting(profile.credentials, key).empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the AWS profile '{}' gets credentials through '{}', which kiln does not "
                        "support; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                        profile.name,
                        key);
    }
  }
  return ok_status();
}

Result<Keys> load_keys(const EnvLookup& env, const AwsProfile& profile) {
  Keys from_env{env_value(env, "AWS_ACCESS_KEY_ID").value_or(""),
                env_value(env, "AWS_SECRET_ACCESS_KEY").value_or(""),
                env_value(env, "AWS_SESSION_TOKEN").value_or("")};
  std::optional<Keys> keys = KILN_TRY(complete_keys(from_env, "the environment"));
  if (!keys) {
    keys = KILN_TRY(keys_from_section(profile.credentials, "the credentials file"));
  }
  if (!keys) {
    keys = KILN_TRY(keys_from_section(profile.config, "the config file"));
  }
  if (!keys) {
    KILN_TRY(refuse_unsupported_provider(profile));
  }
  return keys.value_or(Keys{});
}

Result<std::string> load_endpoint(const EnvLookup& env, const AwsProfile& profile) {
  if (iequals(env_value(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or(""), "true") ||
      iequals(setting(profile.config, "ignore_configured_endpoint_urls"), "true")) {
    return std::string();
  }
  std::string endpoint = env_value(env, "AWS_ENDPOINT_URL_S3")
                             .value_or(env_value(env, "AWS_ENDPOINT_URL").value_or(""));
  for (const std::string& candidate :
       {setting(profile.services, "s3.endpoint_url"), setting(profile.config, "endpoint_url")}) {
    if (endpoint.empty()) {
      endpoint = candidate;
    }
  }
  if (!endpoint.empty() && !starts_with(endpoint, "http://") &&
      !starts_with(endpoint, "https://")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the S3 endpoint '{}' must start with http:// or https://",
                      endpoint);
  }
  return endpoint;
}

}  // namespace

Result<S3Config> load_s3_config(const EnvLookup& env) {
  AwsProfile profile = KILN_TRY(load_profile(env));
  S3Config config;
  config.endpoint = KILN_TRY(load_endpoint(env, profile));
  std::string region = setting(profile.config, "region");
  config.region =
      env_value(env, "AWS_REGION")
          .value_or(
              env_value(env, "AWS_DEFAULT_REGION").value_or(region.empty() ? "us-east-1" : region));
  Keys keys = KILN_TRY(load_keys(env, profile));
  config.access_key_id = std::move(keys.id);
  config.secret_access_key = std::move(keys.secret);
  config.session_token = std::move(keys.token);
  return config;
}

}  // namespace kiln::toe
