#include "kiln/api/sigv4.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "kiln/base/hash.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::api::sigv4 {

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) {
      return h.value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> HttpRequest::header_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const Header& h : headers) {
    if (iequals(h.name, name)) {
      values.push_back(h.value);
    }
  }
  return values;
}

namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Trimall: leading and trailing whitespace removed, inner runs made one space.
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += c;
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(),
       key.data(),
       static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()),
       data.size(),
       out,
       &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    return {target, {}};
  }
  return {target.substr(0, q), target.substr(q + 1)};
}

Verification failure(std::string type, std::string message) {
  Verification v;
  v.error_type = std::move(type);
  v.message = std::move(message);
  return v;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  if (path.empty()) {
    return "/";
  }
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) {
    out += '/';
  }
  // A relative path whose segments all cancel out ("a/..") is the root, as the empty path is.
  return out.empty() ? "/" : out;
}

std::string canonical_uri(std::string_view raw_path) {
  return uri_encode(normalize_path(raw_path), true);
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& pair : split(raw_query, '&')) {
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    std::string_view name = std::string_view(pair).substr(0, eq);
    std::string_view value =
        eq == std::string::npos ? std::string_view() : std::string_view(pair).substr(eq + 1);
    pairs.emplace_back(uri_encode(percent_decode(name), false),
                       uri_encode(percent_decode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) {
      out += '&';
    }
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

CanonicalHeaders canonical_headers(const HttpRequest& request,
                                   const std::vector<std::string>& signed_headers) {
  CanonicalHeaders result;
  for (const std::string& name : signed_headers) {
    std::vector<std::string> values = request.header_values(name);
    if (values.empty()) {
      if (!result.missing) {
        result.missing = name;
      }
      continue;
    }
    result.text += to_lower(name);
    result.text += ':';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) {
        result.text += ',';
      }
      result.text += trim_all(values[i]);
    }
    result.text += '\n';
  }
  return result;
}

std::string canonical_request(const HttpRequest& request,
                              const std::vector<std::string>& signed_headers,
                              std::string_view payload_hash) {
  auto [path, query] = split_target(request.target);
  std::string out;
  for (char c : request.method) {
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  out += '\n';
  out += canonical_uri(path);
  out += '\n';
  out += canonical_query(query);
  out += '\n';
  out += canonical_headers(request, signed_headers).text;
  out += '\n';
  out += join(signed_headers, ";");
  out += '\n';
  out += payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date,
                           std::string_view scope,
                           std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope, sha256_hex(canonical_request));
}

std::string signing_key(std::string_view secret,
                        std::string_view date,
                        std::string_view region,
                        std::string_view service) {
  std::string key = hmac_sha256("AWS4" + std::string(secret), date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, "aws4_request");
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return to_hex(hmac_sha256(key, data));
}

std::string sha256_hex(std::string_view data) {
  return hash_hex(HashAlgorithm::kSha256, data);
}

std::string format_amz_date(SystemTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

std::optional<SystemTime> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return std::nullopt;
  }
  auto number = [&](size_t pos, size_t len) -> int {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return -1;
      }
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(4, 2) - 1;
  tm.tm_mday = number(6, 2);
  tm.tm_hour = number(9, 2);
  tm.tm_min = number(11, 2);
  tm.tm_sec = number(13, 2);
  // Years 1970-2199 only: system_clock counts nanoseconds in 64 bits, which overflow after 2262
  // (a date a network peer sends must not be undefined behaviour).
  if (tm.tm_year < 70 || tm.tm_year > 299 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
      tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
      tm.tm_sec < 0 || tm.tm_sec > 59) {
    return std::nullopt;
  }
  SystemTime time = std::chrono::system_clock::from_time_t(timegm(&tm));
  // A day the month does not have ("20240230") is not a date, not the next month's.
  if (format_amz_date(time) != text) {
    return std::nullopt;
  }
  return time;
}

std::string Authorization::scope() const {
  return fmt::format("{}/{}/{}/aws4_request", date, region, service);
}

ParsedAuthorization parse_authorization(std::string_view header) {
  ParsedAuthorization result;
  std::string_view text = trim(header);
  size_t space = text.find(' ');
  std::string_view algorithm = text.substr(0, space);
  if (algorithm != kAlgorithm) {
    result.error = fmt::format("Unsupported AWS 'algorithm': '{}'", algorithm);
    return result;
  }
  std::string_view rest = space == std::string_view::npos ? "" : text.substr(space + 1);
  std::optional<std::string> credential;
  std::optional<std::string> signed_headers;
  std::optional<std::string> signature;
  std::vector<std::string> problems;
  for (const std::string& raw : split(rest, ',')) {
    std::string_view part = trim(raw);
    if (part.empty()) {
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      problems.push_back(
          fmt::format("Authorization header requires each component to be of the "
                      "form key=value, not '{}'.",
                      part));
      continue;
    }
    std::string_view key = part.substr(0, eq);
    std::string value(part.substr(eq + 1));
    if (key == "Credential") {
      credential = value;
    } else if (key == "SignedHeaders") {
      signed_headers = value;
    } else if (key == "Signature") {
      signature = value;
    }
  }
  if (!credential) {
    problems.push_back("Authorization header requires 'Credential' parameter.");
  }
  if (!signature) {
    problems.push_back("Authorization header requires 'Signature' parameter.");
  }
  if (!signed_headers) {
    problems.push_back("Authorization header requires 'SignedHeaders' parameter.");
  }
  if (!problems.empty()) {
    result.error = join(problems, " ");
    return result;
  }
  std::vector<std::string> scope = split(*credential, '/');
  if (scope.size() != 5 || scope[0].empty() || scope[1].size() != 8 || scope[2].empty() ||
      scope[3].empty()) {
    result.error = fmt::format(
        "Credential should be of the form "
        "'<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request', not '{}'.",
        *credential);
    return result;
  }
  if (scope[4] != "aws4_request") {
    result.error = fmt::format(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.", scope[4]);
    return result;
  }
  if (signed_headers->empty() || signature->empty() ||
      signature->find_first_not_of("0123456789abcdef") != std::string::npos) {
    result.error =
        "Authorization header's SignedHeaders and Signature must not be empty, and the "
        "Signature must be lower-case hex.";
    return result;
  }
  Authorization auth;
  auth.access_key_id = scope[0];
  auth.date = scope[1];
  auth.region = scope[2];
  auth.service = scope[3];
  auth.signed_headers = split(*signed_headers, ';');
  auth.signature = *signature;
  result.authorization = std::move(auth);
  return result;
}

void sign(HttpRequest& request,
          std::string_view access_key_id,
          std::string_view secret,
          std::string_view region,
          std::string_view service,
          SystemTime now) {
  std::string amz_date = format_amz_date(now);
  request.headers.push_back({"X-Amz-Date", amz_date});
  std::vector<std::string> names;
  for (const Header& h : request.headers) {
    std::string name = to_lower(h.name);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end());
  Authorization auth;
  auth.access_key_id = std::string(access_key_id);
  auth.date = amz_date.substr(0, 8);
  auth.region = std::string(region);
  auth.service = std::string(service);
  std::string canonical = canonical_request(request, names, sha256_hex(request.body));
  std::string to_sign = string_to_sign(amz_date, auth.scope(), canonical);
  std::string signature = hmac_sha256_hex(signing_key(secret, auth.date, region, service), to_sign);
  request.headers.push_back({"Authorization",
                             fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}",
                                         kAlgorithm,
                                         access_key_id,
                                         auth.scope(),
                                         join(names, ";"),
                                         signature)});
}

Verification verify(const HttpRequest& request,
                    const std::map<std::string, std::string>& credentials,
                    const VerifyOptions& options,
                    SystemTime now) {
  std::vector<std::string> authorization_values = request.header_values("Authorization");
  if (authorization_values.empty()) {
    return failure("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  if (authorization_values.size() > 1) {
    return failure("IncompleteSignatureException",
                   "The request must carry exactly one Authorization header.");
  }
  ParsedAuthorization parsed = parse_authorization(authorization_values.front());
  if (!parsed.authorization) {
    return failure("IncompleteSignatureException", parsed.error);
  }
  const Authorization& auth = *parsed.authorization;

  std::optional<std::string> amz_date = request.header("X-Amz-Date");
  if (!amz_date) {
    return failure("IncompleteSignatureException",
                   "Authorization header requires existence of a 'X-Amz-Date' header.");
  }
  std::optional<SystemTime> signed_at = parse_amz_date(*amz_date);
  if (!signed_at) {
    return failure("IncompleteSignatureException",
                   fmt::format("X-Amz-Date must be in the ISO-8601 basic format "
                               "YYYYMMDD'T'HHMMSS'Z', not '{}'.",
                               *amz_date));
  }
  auto is_signed = [&](std::string_view name) {
    return std::any_of(auth.signed_headers.begin(),
                       auth.signed_headers.end(),
                       [&](const std::string& h) { return iequals(h, name); });
  };
  if (!is_signed("host")) {
    return failure("IncompleteSignatureException",
                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!is_signed("x-amz-date")) {
    return failure("IncompleteSignatureException",
                   "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  CanonicalHeaders headers = canonical_headers(request, auth.signed_headers);
  if (headers.missing) {
    return failure("IncompleteSignatureException",
                   fmt::format("The signed header '{}' is not in the request.", *headers.missing));
  }

  if (request.header("X-Amz-Security-Token")) {
    // kiln issues no temporary credentials, so no session token can be valid.
    return failure("UnrecognizedClientException",
                   "The security token included in the request is invalid.");
  }
  auto secret = credentials.find(auth.access_key_id);
  if (secret == credentials.end()) {
    return failure("UnrecognizedClientException",
                   "The security token included in the request is invalid.");
  }

  if (auth.date != amz_date->substr(0, 8)) {
    return failure("InvalidSignatureException",
                   fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                               "version of date from HTTP: '{}' != '{}', from '{}'.",
                               auth.date,
                               amz_date->substr(0, 8),
                               *amz_date));
  }
  if (!options.region.empty() && auth.region != options.region) {
    return failure(
        "InvalidSignatureException",
        fmt::format("Credential should be scoped to a valid region, not '{}'. ", auth.region));
  }
  if (auth.service != options.service) {
    return failure(
        "InvalidSignatureException",
        fmt::format("Credential should be scoped to correct service: '{}'. ", options.service));
  }
  if (*signed_at + options.max_skew < now) {
    return failure("InvalidSignatureException",
                   fmt::format("Signature expired: {} is now earlier than {} ({} - {} min.)",
                               *amz_date,
                               format_amz_date(now - options.max_skew),
                               format_amz_date(now),
                               options.max_skew.count() / 60));
  }
  if (*signed_at - options.max_skew > now) {
    return failure(
        "InvalidSignatureException",
        fmt::format("Signature not yet current: {} is still later than {} ({} + {} min.)",
                    *amz_date,
                    format_amz_date(now + options.max_skew),
                    format_amz_date(now),
                    options.max_skew.count() / 60));
  }

  std::string payload_hash = sha256_hex(request.body);
  if (std::optional<std::string> declared = request.header("X-Amz-Content-Sha256")) {
    if (*declared != payload_hash) {
      return failure("InvalidSignatureException",
                     "The provided 'x-amz-content-sha256' header does not match what was "
                     "computed.");
    }
  }
  std::string canonical = canonical_request(request, auth.signed_headers, payload_hash);
  std::string to_sign = string_to_sign(*amz_date, auth.scope(), canonical);
  std::string expected =
      hmac_sha256_hex(signing_key(secret->second, auth.date, auth.region, auth.service), to_sign);
  if (!constant_time_equal(expected, auth.signature)) {
    return failure(
        "InvalidSignatureException",
        fmt::format("The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method. Consult the "
                    "service documentation for details.\n\nThe Canonical String for this request "
                    "should have been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
                    canonical,
                    to_sign));
  }
  Verification ok;
  ok.ok = true;
  ok.access_key_id = auth.access_key_id;
  return ok;
}

}  // namespace kiln::api::sigv4
