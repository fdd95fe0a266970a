// libFuzzer harness for AWS Signature Version 4 on the server side (api/sigv4.cpp), what any
// network peer of `kiln serve` can send before it has a key. The input is an HTTP request as text:
//
//   METHOD TARGET
//   Header-Name: value            (any number of lines)
//                                 (an empty line)
//   body
//
// Checks that parse_authorization and verify never crash or throw; that a parsed Authorization
// has the shape verify relies on (a five-part scope, signed headers, a lower-case hex signature);
// that verify either accepts with the only known key or refuses with one of AWS's error types and
// a message; that a request verify accepts is refused once its signature's last character, or
// its first, changes; and that the encoding helpers keep their laws (percent_decode undoes
// uri_encode, normalize_path is idempotent, format_amz_date undoes parse_amz_date).
//
// Build and run: see fuzz/README.md.
//   ./sigv4_fuzz -max_total_time=60 fuzz/corpus/sigv4

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "kiln/api/sigv4.hpp"

namespace {

namespace sigv4 = kiln::api::sigv4;

constexpr std::string_view kKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(
      stderr, "sigv4_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::string_view next_line(std::string_view& text) {
  size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

sigv4::HttpRequest read_request(std::string_view text) {
  sigv4::HttpRequest request;
  std::string_view first = next_line(text);
  size_t space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  request.target = space == std::string_view::npos ? "" : std::string(first.substr(space + 1));
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.empty()) {
      break;
    }
    size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    request.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
  }
  request.body = std::string(text);
  return request;
}

bool is_authorization(std::string_view name) {
  constexpr std::string_view kName = "authorization";
  if (name.size() != kName.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
    if (c != kName[i]) {
      return false;
    }
  }
  return true;
}

void check_parse(std::string_view header) {
  sigv4::ParsedAuthorization parsed = sigv4::parse_authorization(header);
  if (parsed.authorization.has_value() == !parsed.error.empty()) {
    fail("parse_authorization gave both an authorization and an error, or neither", header);
  }
  if (!parsed.authorization) {
    return;
  }
  const sigv4::Authorization& auth = *parsed.authorization;
  if (auth.access_key_id.empty() || auth.date.size() != 8 || auth.region.empty() ||
      auth.service.empty() || auth.signed_headers.empty() || auth.signature.empty() ||
      auth.signature.find_first_not_of("0123456789abcdef") != std::string::npos) {
    fail("parse_authorization accepted a malformed header", header);
  }
}

sigv4::Verification verify(const sigv4::HttpRequest& request) {
  static const std::map<std::string, std::string> credentials = {
      {std::string(kKey), std::string(kSecret)}};
  static const kiln::SystemTime now = *sigv4::parse_amz_date("20240309T123456Z");
  sigv4::VerifyOptions options;
  options.region = "local";
  return sigv4::verify(request, credentials, options, now);
}

void check_verify(const sigv4::HttpRequest& request, std::string_view text) {
  static const std::set<std::string, std::less<>> kErrorTypes = {
      "MissingAuthenticationTokenException",
      "IncompleteSignatureException",
      "UnrecognizedClientException",
      "InvalidSignatureException"};
  sigv4::Verification result = verify(request);
  if (!result.ok) {
    if (kErrorTypes.count(result.error_type) == 0 || result.message.empty()) {
      fail("a refusal without one of AWS's error types or a message", text);
    }
    return;
  }
  if (result.access_key_id != kKey) {
    fail("accepted a key it does not know", text);
  }
  // Every character of the signature counts.
  for (bool last : {true, false}) {
    sigv4::HttpRequest changed = request;
    for (sigv4::Header& header : changed.headers) {
      if (is_authorization(header.name)) {
        size_t at = header.value.rfind("Signature=");
        if (at == std::string::npos) {
          continue;
        }
        size_t first = at + 10;
        size_t end = header.value.find_first_not_of("0123456789abcdef", first);
        size_t index = last ? (end == std::string::npos ? header.value.size() : end) - 1 : first;
        if (index < first || index >= header.value.size()) {
          continue;
        }
        header.value[index] = header.value[index] == '0' ? '1' : '0';
      }
    }
    if (verify(changed).ok) {
      fail(last ? "accepted a signature whose last character changed"
                : "accepted a signature whose first character changed",
           text);
    }
  }
}

void check_encodings(std::string_view text) {
  for (bool keep_slash : {false, true}) {
    std::string encoded = sigv4::uri_encode(text, keep_slash);
    if (encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                  "-_.~%/") != std::string::npos) {
      fail("uri_encode left a character that needs encoding", encoded);
    }
    if (sigv4::percent_decode(encoded) != text) {
      fail("percent_decode does not undo uri_encode", text);
    }
  }
  std::string normalized = sigv4::normalize_path(text);
  if (sigv4::normalize_path(normalized) != normalized) {
    fail("normalize_path is not idempotent", text);
  }
  (void)sigv4::canonical_uri(text);
  (void)sigv4::canonical_query(text);
  if (std::optional<kiln::SystemTime> time = sigv4::parse_amz_date(text)) {
    if (sigv4::format_amz_date(*time) != text) {
      fail("format_amz_date does not give back the date parse_amz_date read", text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  sigv4::HttpRequest request = read_request(text);
  for (const sigv4::Header& header : request.headers) {
    check_parse(header.value);
  }
  check_parse(text);
  check_verify(request, text);
  if (size <= 1024) {
    check_encodings(text);
  }
  return 0;
}
