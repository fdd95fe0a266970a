#include "kiln/toe/s3_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln::toe {
namespace fs = std::filesystem;

// ---- HTTP transfers ------------------------------------------------------------------------

namespace {

constexpr size_t kMaxErrorBody = size_t{64} << 10;
constexpr size_t kMaxListBody = 64u << 20;
constexpr long kConnectTimeoutMs = 30'000;
constexpr long kStallSeconds = 60;  // a transfer slower than 1 byte/s for this long fails
constexpr long kMaxRedirects = 10;

struct CurlFree {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using CurlPtr = std::unique_ptr<CURL, CurlFree>;

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

// The state of one transfer, shared with curl's callbacks.
struct Transfer {
  CURL* easy = nullptr;
  const BodySink* sink = nullptr;
  const TransferControl* control = nullptr;
  HttpResponse response;
  std::optional<Error> failure;  // why a callback stopped the transfer
  UniqueFd upload;
  fs::path upload_path;
  curl_off_t upload_size = 0;
  char error_text[CURL_ERROR_SIZE] = {};
};

Result<CurlPtr> new_easy() {
  // curl_global_init is not thread-safe before 7.84; call it once, before the first handle.
  static std::once_flag once;
  static CURLcode init = CURLE_OK;
  std::call_once(once, [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* easy = init == CURLE_OK ? curl_easy_init() : nullptr;
  if (easy == nullptr) {
    return make_error(ErrorCode::kInternal, "initializing libcurl failed");
  }
  return CurlPtr(easy);
}

std::optional<Error> stop_reason(const TransferControl& control) {
  if (control.cancel != nullptr && control.cancel->load()) {
    return Error{ErrorCode::kCancelled, "transfer cancelled"};
  }
  if (control.deadline && std::chrono::steady_clock::now() >= *control.deadline) {
    return Error{ErrorCode::kTimeout, "transfer stopped at the step's deadline"};
  }
  return std::nullopt;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (t.response.status != 200) {
    std::string& body = t.response.error_body;
    body.append(data, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
    return n;
  }
  Status written = (*t.sink)(std::string_view(data, n));
  if (!written.ok()) {
    t.failure = written.error();
    return 0;  // anything but n makes curl fail with CURLE_WRITE_ERROR
  }
  t.response.body_bytes += n;
  return n;
}

size_t on_upload_read(char* buffer, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  if (!t.upload.valid()) {
    return 0;
  }
  for (;;) {
    ssize_t n = ::read(t.upload.get(), buffer, size * count);
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      t.failure = errno_error(errno, fmt::format("reading {}", t.upload_path.string()));
      return CURL_READFUNC_ABORT;
    }
  }
}

// Called by curl at least once a second while a transfer runs; non-zero aborts it.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  t.failure = stop_reason(*t.control);
  return t.failure ? 1 : 0;
}

Status open_upload(const HttpRequest& request, Transfer& t) {
  if (request.method != "PUT" || request.upload_file.empty()) {
    return ok_status();
  }
  t.upload_path = request.upload_file;
  t.upload = UniqueFd(::open(t.upload_path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!t.upload.valid() || ::fstat(t.upload.get(), &st) != 0) {
    return errno_error(errno, fmt::format("opening {}", t.upload_path.string()));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, "{} is not a file", t.upload_path.string());
  }
  t.upload_size = static_cast<curl_off_t>(st.st_size);
  return ok_status();
}

Result<SlistPtr> header_list(const std::vector<std::string>& headers) {
  SlistPtr list;
  for (const std::string& header : headers) {
    // curl_slist_append returns the list's head: the new node only when the list was empty.
    curl_slist* head = curl_slist_append(list.get(), header.c_str());
    if (head == nullptr) {
      return make_error(ErrorCode::kInternal, "out of memory building request headers");
    }
    if (!list) {
      list.reset(head);
    }
  }
  return list;
}

// Sets options one after another and remembers the first failure.
class Options {
 public:
  explicit Options(CURL* easy) : easy_(easy) {}
  template <typename T>
  Options& set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) {
      rc_ = curl_easy_setopt(easy_, option, value);
    }
    return *this;
  }
  CURLcode result() const { return rc_; }

 private:
  CURL* easy_;
  CURLcode rc_ = CURLE_OK;
};

void set_common(Options& o, const HttpRequest& request, Transfer& t, curl_slist* headers) {
  o.set(CURLOPT_URL, request.url.c_str())
      .set(CURLOPT_NOSIGNAL, 1L)
      .set(CURLOPT_PROTOCOLS_STR, "http,https")
      .set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
      .set(CURLOPT_ERRORBUFFER, t.error_text)
      .set(CURLOPT_WRITEFUNCTION, &on_body)
      .set(CURLOPT_WRITEDATA, &t)
      .set(CURLOPT_NOPROGRESS, 0L)
      .set(CURLOPT_XFERINFOFUNCTION, &on_progress)
      .set(CURLOPT_XFERINFODATA, &t)
      .set(CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L)
      .set(CURLOPT_MAXREDIRS, kMaxRedirects)
      .set(CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L)
      .set(CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L)
      .set(CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs)
      .set(CURLOPT_LOW_SPEED_LIMIT, 1L)
      .set(CURLOPT_LOW_SPEED_TIME, kStallSeconds)
      .set(CURLOPT_USERAGENT, "kiln-toe")
      .set(CURLOPT_HTTPHEADER, headers);
}

void set_method(Options& o, const HttpRequest& request, Transfer& t) {
  if (request.method == "HEAD") {
    o.set(CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    o.set(CURLOPT_UPLOAD, 1L)
        .set(CURLOPT_INFILESIZE_LARGE, t.upload_size)
        .set(CURLOPT_READFUNCTION, &on_upload_read)
        .set(CURLOPT_READDATA, &t);
  }
}

// libcurl signs with SigV4 from the key and secret; it signs host, x-amz-date and every x-amz-*
// header, and takes the payload hash from x-amz-content-sha256.
void set_signing(Options& o, const HttpRequest& request, std::string& scope) {
  if (!request.signing) {
    return;
  }
  const AwsSigning& s = *request.signing;
  scope = fmt::format("aws:amz:{}:{}", s.region, s.service);
  o.set(CURLOPT_AWS_SIGV4, scope.c_str())
      .set(CURLOPT_USERNAME, s.access_key_id.c_str())
      .set(CURLOPT_PASSWORD, s.secret_access_key.c_str())
      .set(CURLOPT_PATH_AS_IS, 1L);  // the signed path must be the one sent: keep "./" in keys
}

ErrorCode curl_error_code(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return ErrorCode::kUnavailable;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
      return ErrorCode::kInvalidArgument;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return ErrorCode::kPermissionDenied;
    default:
      return ErrorCode::kIo;
  }
}

Error transfer_error(CURLcode rc, Transfer& t, const HttpRequest& request) {
  if (t.failure) {
    return *t.failure;
  }
  std::string_view text = t.error_text[0] != '\0' ? t.error_text : curl_easy_strerror(rc);
  return Error{curl_error_code(rc),
               fmt::format("{} {}: {}", request.method, redact_url(request.url), text)};
}

}  // namespace

Result<HttpResponse> http_perform(const HttpRequest& request,
                                  const BodySink& sink,
                                  const TransferControl& control) {
  if (std::optional<Error> stop = stop_reason(control)) {
    return *stop;
  }
  CurlPtr easy = KILN_TRY(new_easy());
  Transfer t;
  t.easy = easy.get();
  t.sink = &sink;
  t.control = &control;
  KILN_TRY(open_upload(request, t));
  SlistPtr headers = KILN_TRY(header_list(request.headers));
  Options options(easy.get());
  std::string scope;
  set_common(options, request, t, headers.get());
  set_method(options, request, t);
  set_signing(options, request, scope);
  if (options.result() != CURLE_OK) {
    return make_error(
        ErrorCode::kInternal, "configuring libcurl: {}", curl_easy_strerror(options.result()));
  }
  CURLcode rc = curl_easy_perform(easy.get());
  if (rc != CURLE_OK) {
    return transfer_error(rc, t, request);
  }
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &t.response.status);
  curl_off_t length = -1;
  curl_easy_getinfo(easy.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  t.response.content_length = static_cast<int64_t>(length);
  return std::move(t.response);
}

ErrorCode error_code_for_http_status(long status) {
  if (status == 404 || status == 410) {
    return ErrorCode::kNotFound;
  }
  if (status == 401 || status == 403) {
    return ErrorCode::kPermissionDenied;
  }
  if (status == 409 || status == 412) {
    return ErrorCode::kConflict;
  }
  if (status == 408 || status == 429 || status >= 500) {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInvalidArgument;
}

std::string redact_url(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme = url.find("://");
  size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t path = std::min(url.find('/', host), url.size());
  size_t at = url.substr(host, path - host).rfind('@');
  if (at == std::string_view::npos) {
    return std::string(url);
  }
  return fmt::format("{}{}", url.substr(0, host), url.substr(host + at + 1));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool plain = std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
    if (plain || (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

// ---- configuration -------------------------------------------------------------------------

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

Result<S3Uri> parse_s3_uri(std::string_view text) {
  if (!starts_with(text, "s3://")) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not an s3:// URI", text);
  }
  std::string_view rest = text.substr(5);
  size_t slash = rest.find('/');
  S3Uri uri{std::string(rest.substr(0, slash)),
            slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1))};
  bool valid = !uri.bucket.empty() && std::all_of(uri.bucket.begin(), uri.bucket.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
  });
  if (!valid) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' does not name a valid bucket", text);
  }
  return uri;
}

// ---- S3 responses --------------------------------------------------------------------------

namespace {

constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// One entity ("amp", "#38", "#x26") as text; nullopt when unknown.
std::optional<std::string> xml_entity(std::string_view name) {
  static const std::map<std::string_view, std::string_view> kNamed = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
  if (auto it = kNamed.find(name); it != kNamed.end()) {
    return std::string(it->second);
  }
  bool hex = starts_with(name, "#x") || starts_with(name, "#X");
  std::string_view digits = name.substr(hex ? 2 : 1);
  uint32_t cp = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
  if (!starts_with(name, "#") || digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size() || cp > 0x10FFFF) {
    return std::nullopt;
  }
  std::string out;
  append_utf8(out, cp);
  return out;
}

std::string xml_unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    std::optional<std::string> entity;
    if (semi != std::string_view::npos && semi - i <= 10) {
      entity = xml_entity(text.substr(i + 1, semi - i - 1));
    }
    if (entity) {
      out += *entity;
      i = semi;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Where "<name" starts an element named exactly `name`, at or after `from`.
size_t find_open_tag(std::string_view xml, std::string_view name, size_t from) {
  std::string open = fmt::format("<{}", name);
  for (size_t p = xml.find(open, from); p != std::string_view::npos; p = xml.find(open, p + 1)) {
    size_t after = p + open.size();
    char next = after < xml.size() ? xml[after] : '\0';
    if (next == '>' || next == '/' || std::isspace(static_cast<unsigned char>(next)) != 0) {
      return p;
    }
  }
  return std::string_view::npos;
}

// The content of every <name>...</name> (or <name/>) element, in order.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::string close = fmt::format("</{}>", name);
  size_t pos = 0;
  while ((pos = find_open_tag(xml, name, pos)) != std::string_view::npos) {
    size_t gt = xml.find('>', pos);
    if (gt == std::string_view::npos) {
      break;
    }
    if (xml[gt - 1] == '/') {
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) {
      break;
    }
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

// The unescaped text of the first <name> element, "" when there is none.
std::string xml_text(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> found = xml_elements(xml, name);
  return found.empty() ? std::string() : xml_unescape(trim(found.front()));
}

Error s3_error(std::string_view operation, const S3Uri& target, const HttpResponse& response) {
  std::string code = xml_text(response.error_body, "Code");
  std::string message = xml_text(response.error_body, "Message");
  std::string detail = code.empty() ? "" : fmt::format(" {}", code);
  if (!message.empty()) {
    detail += fmt::format(": {}", message);
  }
  return Error{
      error_code_for_http_status(response.status),
      fmt::format("{} {}: HTTP {}{}", operation, target.to_string(), response.status, detail)};
}

struct ListPage {
  std::vector<S3Object> objects;
  std::string next_token;  // empty on the last page
};

Result<S3Object> parse_list_entry(std::string_view contents) {
  S3Object object{xml_text(contents, "Key"), 0};
  std::string size = xml_text(contents, "Size");
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), object.size);
  if (object.key.empty() || ec != std::errc() || end != size.data() + size.size()) {
    return make_error(ErrorCode::kCorruption, "a ListObjectsV2 entry has no valid Key and Size");
  }
  return object;
}

Result<ListPage> parse_list_page(std::string_view xml) {
  ListPage page;
  for (std::string_view contents : xml_elements(xml, "Contents")) {
    page.objects.push_back(KILN_TRY(parse_list_entry(contents)));
  }
  if (iequals(xml_text(xml, "IsTruncated"), "true")) {
    page.next_token = xml_text(xml, "NextContinuationToken");
    if (page.next_token.empty()) {
      return make_error(ErrorCode::kCorruption,
                        "a truncated ListObjectsV2 page has no NextContinuationToken");
    }
  }
  return page;
}

std::string list_query(const std::string& prefix, const std::string& token, int page_size) {
  // Parameters in SigV4's canonical order (sorted, encoded), so the signed query is the sent one.
  std::string query;
  if (!token.empty()) {
    query = fmt::format("continuation-token={}&", uri_encode(token, false));
  }
  return query +
         fmt::format("list-type=2&max-keys={}&prefix={}", page_size, uri_encode(prefix, false));
}

const BodySink kDiscardBody = [](std::string_view) { return ok_status(); };

// A bucket name that works as a TLS-covered host name label.
bool virtual_host_ok(std::string_view bucket) {
  return std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) != 0 ||
           std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-';
  });
}

}  // namespace

std::string S3Client::url(const S3Uri& target, std::string_view query) const {
  std::string path = target.key.empty() ? "" : "/" + uri_encode(target.key, true);
  std::string base;
  if (!config_.endpoint.empty()) {
    std::string_view endpoint = config_.endpoint;
    while (ends_with(endpoint, "/")) {
      endpoint.remove_suffix(1);
    }
    base = fmt::format("{}/{}", endpoint, target.bucket);
  } else {
    std::string domain = starts_with(config_.region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    base = virtual_host_ok(target.bucket)
               ? fmt::format("https://{}.s3.{}.{}", target.bucket, config_.region, domain)
               : fmt::format("https://s3.{}.{}/{}", config_.region, domain, target.bucket);
    path = path.empty() && virtual_host_ok(target.bucket) ? "/" : path;
  }
  return query.empty() ? base + path : fmt::format("{}{}?{}", base, path, query);
}

HttpRequest S3Client::request(std::string method,
                              const S3Uri& target,
                              std::string_view query,
                              const S3RequestOptions& options) const {
  HttpRequest r;
  r.method = std::move(method);
  r.url = url(target, query);
  std::string_view payload = r.method == "PUT" ? kUnsignedPayload : kEmptyPayloadSha256;
  r.headers.push_back(fmt::format("x-amz-content-sha256: {}", payload));
  if (!config_.session_token.empty()) {
    r.headers.push_back(fmt::format("x-amz-security-token: {}", config_.session_token));
  }
  if (!options.expected_bucket_owner.empty()) {
    r.headers.push_back(
        fmt::format("x-amz-expected-bucket-owner: {}", options.expected_bucket_owner));
  }
  if (!config_.access_key_id.empty()) {
    r.signing = AwsSigning{config_.region, "s3", config_.access_key_id, config_.secret_access_key};
  }
  return r;
}

Result<HttpResponse> S3Client::send(std::string_view operation,
                                    const HttpRequest& request,
                                    const S3Uri& target,
                                    const S3RequestOptions& options,
                                    const BodySink& sink) const {
  HttpResponse response = KILN_TRY_CTX(http_perform(request, sink, options.control),
                                       fmt::format("{} {}", operation, target.to_string()));
  if (response.status != 200) {
    return s3_error(operation, target, response);
  }
  return response;
}

Result<std::string> S3Client::fetch_body(std::string_view operation,
                                         const S3Uri& target,
                                         std::string_view query,
                                         const S3RequestOptions& options) const {
  std::string body;
  auto sink = [&body](std::string_view chunk) -> Status {
    if (body.size() + chunk.size() > kMaxListBody) {
      return make_error(ErrorCode::kCorruption, "response larger than {} bytes", kMaxListBody);
    }
    body.append(chunk);
    return ok_status();
  };
  KILN_TRY(send(operation, request("GET", target, query, options), target, options, sink));
  return body;
}

Result<uint64_t> S3Client::get_object(const S3Uri& object,
                                      const fs::path& destination,
                                      const S3RequestOptions& options) const {
  AtomicFile file = KILN_TRY(AtomicFile::open(destination));
  auto sink = [&file](std::string_view chunk) { return file.write(chunk); };
  HttpResponse response =
      KILN_TRY(send("GetObject", request("GET", object, "", options), object, options, sink));
  KILN_TRY(file.commit());
  return response.body_bytes;
}

Result<uint64_t> S3Client::put_object(const S3Uri& object,
                                      const fs::path& source,
                                      const S3RequestOptions& options) const {
  constexpr uint64_t kMaxSinglePut = uint64_t{5} << 30;
  std::error_code ec;
  uint64_t size = fs::file_size(source, ec);
  if (ec) {
    return errno_error(ec.value(),
                       fmt::format("PutObject {}: {}", object.to_string(), source.string()));
  }
  if (size > kMaxSinglePut) {
    return make_error(ErrorCode::kInvalidArgument,
                      "PutObject {}: {} is larger than 5 GiB, which needs a multipart upload "
                      "(not supported)",
                      object.to_string(),
                      source.string());
  }
  HttpRequest put = request("PUT", object, "", options);
  put.upload_file = source;
  KILN_TRY(send("PutObject", put, object, options, kDiscardBody));
  return size;
}

Result<S3Listing> S3Client::list_objects_v2(const std::string& bucket,
                                            const std::string& prefix,
                                            size_t limit,
                                            const S3RequestOptions& options) const {
  S3Listing listing;
  S3Uri target{bucket, ""};
  std::string token;
  do {
    std::string query = list_query(prefix, token, config_.list_page_size);
    std::string xml = KILN_TRY(fetch_body("ListObjectsV2", target, query, options));
    ListPage page = KILN_TRY_CTX(parse_list_page(xml), "ListObjectsV2 " + target.to_string());
    for (S3Object& object : page.objects) {
      if (listing.objects.size() == limit) {
        listing.truncated = true;
        return listing;
      }
      listing.objects.push_back(std::move(object));
    }
    token = std::move(page.next_token);
  } while (!token.empty());
  return listing;
}

Result<S3Object> S3Client::head_object(const S3Uri& object, const S3RequestOptions& options) const {
  HttpResponse response = KILN_TRY(
      send("HeadObject", request("HEAD", object, "", options), object, options, kDiscardBody));
  return S3Object{object.key, static_cast<uint64_t>(std::max<int64_t>(0, response.content_length))};
}

Status S3Client::head_bucket(const std::string& bucket, const S3RequestOptions& options) const {
  S3Uri target{bucket, ""};
  KILN_TRY(send("HeadBucket", request("HEAD", target, "", options), target, options, kDiscardBody));
  return ok_status();
}

Status S3Client::create_bucket(const std::string& bucket, const S3RequestOptions& options) const {
  S3Uri target{bucket, ""};
  KILN_TRY(
      send("CreateBucket", request("PUT", target, "", options), target, options, kDiscardBody));
  return ok_status();
}

}  // namespace kiln::toe
