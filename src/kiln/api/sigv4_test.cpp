#include "kiln/api/sigv4.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace kiln::api::sigv4 {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

SystemTime fixed_time() {
  return *parse_amz_date("20240309T123456Z");
}

std::map<std::string, std::string> credentials() {
  return {{std::string(kKey), std::string(kSecret)}, {"AKIDOTHER", "other-secret"}};
}

VerifyOptions local_options() {
  VerifyOptions options;
  options.region = "local";
  return options;
}

// The vectors below were computed by botocore 1.43.11 (botocore.auth.SigV4Auth, service
// "imagebuilder", the credentials above, datetime(2024, 3, 9, 12, 34, 56)):
//   r = AWSRequest(method, url, data=body, headers=headers)
//   with mock.patch('botocore.auth.get_current_datetime', return_value=fixed):
//       SigV4Auth(creds, "imagebuilder", region).add_auth(r)
struct Vector {
  std::string method;
  std::string host;
  std::string target;
  std::vector<Header> headers;
  std::string body;
  std::string region;
  std::string canonical;  // botocore's canonical request
  std::string authorization;
};

std::vector<Vector> botocore_vectors() {
  return {
      {"PUT",
       "127.0.0.1:8088",
       "/CreateComponent",
       {{"Content-Type", "application/json"}},
       R"({"name":"web","semanticVersion":"1.0.0"})",
       "local",
       "PUT\n/CreateComponent\n\ncontent-type:application/json\nhost:127.0.0.1:8088\n"
       "x-amz-date:20240309T123456Z\n\ncontent-type;host;x-amz-date\n"
       "6924b5ed73c08df96ee9144e32fdef76cd57b6b728bc4ac2e37935956852c730",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=96a3455da848128d60bb147bf8d0688514bb7a1f7a41b3756d3307489d0dd449"},
      {"GET",
       "127.0.0.1:8088",
       "/GetComponent?componentBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Alocal%3A000000000000%"
       "3Acomponent%2Fweb%2F1.0.0%2F1",
       {},
       "",
       "local",
       "GET\n/GetComponent\ncomponentBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Alocal%"
       "3A000000000000%3Acomponent%2Fweb%2F1.0.0%2F1\nhost:127.0.0.1:8088\n"
       "x-amz-date:20240309T123456Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request, "
       "SignedHeaders=host;x-amz-date, "
       "Signature=d1748808d78f59c601f7f4704e954a9ee3336578243aba7c9c8d0791c80a5b12"},
      {"POST",
       "localhost",
       "/ListComponents",
       {{"Content-Type", "application/json"}, {"X-Custom", "  a   b  c "}},
       R"({"maxResults":1})",
       "local",
       "POST\n/ListComponents\n\ncontent-type:application/json\nhost:localhost\n"
       "x-amz-date:20240309T123456Z\nx-custom:a b c\n\ncontent-type;host;x-amz-date;x-custom\n"
       "cad8446b050af2e06ebc5c7dae81d81e9732a9af8228b2c6dd3ecbc207e4e0a3",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date;x-custom, "
       "Signature=66332634d3b9459cb644fd0558121e69c93fd84c9d2b9c6add1004a4733a281e"},
      // Dot segments removed, the path encoded a second time, the query sorted.
      {"GET",
       "localhost",
       "/a%20b/./c/../d?z=1&a=2&a=1&b=x%2Fy",
       {},
       "",
       "local",
       "GET\n/a%2520b/d\na=1&a=2&b=x%2Fy&z=1\nhost:localhost\nx-amz-date:20240309T123456Z\n\n"
       "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request, "
       "SignedHeaders=host;x-amz-date, "
       "Signature=b4a7eaa699c652f29fb72bf1b029e703f2996c85a871f1b1b7de79d02425d230"},
      {"DELETE",
       "localhost",
       "/DeleteImage?imageBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Aus-east-1%3A000000000000%"
       "3Aimage%2Fweb%2F1.0.0%2F1",
       {},
       "",
       "us-east-1",
       "DELETE\n/DeleteImage\nimageBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Aus-east-1%"
       "3A000000000000%3Aimage%2Fweb%2F1.0.0%2F1\nhost:localhost\nx-amz-date:20240309T123456Z\n\n"
       "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/us-east-1/imagebuilder/aws4_request, "
       "SignedHeaders=host;x-amz-date, "
       "Signature=74aa87a014f7094b90366deefde2c1359c61b1fb57c2a787ecaceef47868d1fe"},
  };
}

HttpRequest unsigned_request(const Vector& v) {
  HttpRequest request{v.method, v.target, v.headers, v.body};
  request.headers.insert(request.headers.begin(), Header{"Host", v.host});
  return request;
}

HttpRequest signed_request(const Vector& v) {
  HttpRequest request = unsigned_request(v);
  request.headers.push_back({"X-Amz-Date", "20240309T123456Z"});
  request.headers.push_back({"Authorization", v.authorization});
  return request;
}

TEST(SigV4Test, CanonicalRequestsMatchBotocore) {
  for (const Vector& v : botocore_vectors()) {
    HttpRequest request = unsigned_request(v);
    request.headers.push_back({"X-Amz-Date", "20240309T123456Z"});
    ParsedAuthorization parsed = parse_authorization(v.authorization);
    ASSERT_TRUE(parsed.authorization) << parsed.error;
    EXPECT_EQ(canonical_request(request, parsed.authorization->signed_headers, sha256_hex(v.body)),
              v.canonical)
        << v.target;
  }
}

TEST(SigV4Test, SignProducesBotocoreSignatures) {
  for (const Vector& v : botocore_vectors()) {
    HttpRequest request = unsigned_request(v);
    sign(request, kKey, kSecret, v.region, "imagebuilder", fixed_time());
    EXPECT_EQ(request.header("Authorization").value_or(""), v.authorization) << v.target;
    EXPECT_EQ(request.header("X-Amz-Date").value_or(""), "20240309T123456Z");
  }
}

TEST(SigV4Test, VerifiesBotocoreRequests) {
  for (const Vector& v : botocore_vectors()) {
    VerifyOptions options;
    options.region = v.region;
    Verification result = verify(signed_request(v), credentials(), options, fixed_time() + 3min);
    EXPECT_TRUE(result.ok) << v.target << ": " << result.error_type << ": " << result.message;
    EXPECT_EQ(result.access_key_id, kKey);
  }
}

TEST(SigV4Test, TamperedRequestsFail) {
  const Vector v = botocore_vectors()[0];
  auto expect_bad_signature = [&](const HttpRequest& request, const std::string& what) {
    Verification result = verify(request, credentials(), local_options(), fixed_time());
    EXPECT_FALSE(result.ok) << what;
    EXPECT_EQ(result.error_type, "InvalidSignatureException") << what;
    EXPECT_NE(result.message.find("The request signature we calculated does not match"),
              std::string::npos)
        << what << ": " << result.message;
  };
  HttpRequest body = signed_request(v);
  body.body = R"({"name":"web","semanticVersion":"1.0.1"})";
  expect_bad_signature(body, "body");

  HttpRequest method = signed_request(v);
  method.method = "POST";
  expect_bad_signature(method, "method");

  HttpRequest path = signed_request(v);
  path.target = "/DeleteComponent";
  expect_bad_signature(path, "path");

  const Vector g = botocore_vectors()[1];
  HttpRequest query = signed_request(g);
  query.target += "2";
  expect_bad_signature(query, "query");

  HttpRequest header = signed_request(v);
  header.headers[1].value = "text/plain";  // Content-Type is signed
  expect_bad_signature(header, "signed header");

  HttpRequest secret = unsigned_request(v);
  sign(secret, kKey, "not-the-secret", "local", "imagebuilder", fixed_time());
  expect_bad_signature(secret, "wrong secret");

  // Unsigned headers may change.
  HttpRequest extra = signed_request(v);
  extra.headers.push_back({"User-Agent", "something"});
  EXPECT_TRUE(verify(extra, credentials(), local_options(), fixed_time()).ok);
}

// Every character of the signature counts: one that differs only in its last (or first) hex
// digit, a prefix of the right one, or the right one with more after it is refused. (A check
// that compared only part of the signature passed every other test: docs/security/mutation.md.)
TEST(SigV4Test, SignatureDifferingInOneCharacterFails) {
  const Vector v = botocore_vectors()[0];
  const std::string right = parse_authorization(v.authorization).authorization->signature;
  ASSERT_EQ(right.size(), 64u);
  ASSERT_TRUE(verify(signed_request(v), credentials(), local_options(), fixed_time()).ok);
  auto with_signature = [&](const std::string& signature) {
    Vector changed = v;
    changed.authorization.replace(changed.authorization.rfind(right), right.size(), signature);
    return verify(signed_request(changed), credentials(), local_options(), fixed_time());
  };
  auto flip = [](char c) { return c == '0' ? '1' : '0'; };
  for (size_t at : {size_t{63}, size_t{0}, size_t{32}, size_t{31}}) {
    std::string signature = right;
    signature[at] = flip(signature[at]);
    Verification result = with_signature(signature);
    EXPECT_FALSE(result.ok) << "signature differing at character " << at;
    EXPECT_EQ(result.error_type, "InvalidSignatureException") << at;
  }
  for (const std::string& signature :
       {right.substr(0, 63), right.substr(0, 32), right + "0", right + right}) {
    Verification result = with_signature(signature);
    EXPECT_FALSE(result.ok) << signature;
  }
}

// Found by sigv4_fuzz: a year past 2262 overflowed the clock's nanoseconds (undefined
// behaviour on a date any network peer sends); a day the month does not have rolled over.
TEST(SigV4Test, AmzDatesOutOfRangeAreRefused) {
  EXPECT_TRUE(parse_amz_date("20240229T235959Z"));
  EXPECT_TRUE(parse_amz_date("19700101T000000Z"));
  EXPECT_TRUE(parse_amz_date("21991231T235959Z"));
  for (const char* text : {"40480618T123456Z",
                           "99991231T235959Z",
                           "22000101T000000Z",
                           "19691231T235959Z",
                           "20240230T000000Z",
                           "20230229T000000Z",
                           "20240431T000000Z",
                           "20240101T000060Z",
                           "20241301T000000Z"}) {
    EXPECT_FALSE(parse_amz_date(text)) << text;
  }
  HttpRequest request = signed_request(botocore_vectors()[0]);
  for (Header& header : request.headers) {
    if (header.name == "X-Amz-Date") {
      header.value = "40480618T123456Z";
    }
  }
  Verification result = verify(request, credentials(), local_options(), fixed_time());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_type, "IncompleteSignatureException");
}

TEST(SigV4Test, ClockSkewOfMoreThanFifteenMinutesIsRefused) {
  HttpRequest request = signed_request(botocore_vectors()[0]);
  EXPECT_TRUE(verify(request, credentials(), local_options(), fixed_time() + 15min).ok);
  EXPECT_TRUE(verify(request, credentials(), local_options(), fixed_time() - 15min).ok);

  Verification late = verify(request, credentials(), local_options(), fixed_time() + 16min);
  EXPECT_EQ(late.error_type, "InvalidSignatureException");
  EXPECT_EQ(late.message,
            "Signature expired: 20240309T123456Z is now earlier than 20240309T123556Z "
            "(20240309T125056Z - 15 min.)");

  Verification early = verify(request, credentials(), local_options(), fixed_time() - 16min);
  EXPECT_EQ(early.error_type, "InvalidSignatureException");
  EXPECT_EQ(early.message,
            "Signature not yet current: 20240309T123456Z is still later than 20240309T123356Z "
            "(20240309T121856Z + 15 min.)");
}

TEST(SigV4Test, MissingAndGarbledAuthorization) {
  HttpRequest none = unsigned_request(botocore_vectors()[0]);
  Verification missing = verify(none, credentials(), local_options(), fixed_time());
  EXPECT_EQ(missing.error_type, "MissingAuthenticationTokenException");
  EXPECT_EQ(missing.message, "Missing Authentication Token");

  for (std::string garbled :
       {"Bearer abc",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws5_request, "
        "SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=XYZ"}) {
    HttpRequest request = unsigned_request(botocore_vectors()[0]);
    request.headers.push_back({"X-Amz-Date", "20240309T123456Z"});
    request.headers.push_back({"Authorization", garbled});
    Verification result = verify(request, credentials(), local_options(), fixed_time());
    EXPECT_EQ(result.error_type, "IncompleteSignatureException") << garbled;
    EXPECT_FALSE(result.message.empty());
  }

  // No X-Amz-Date; host not signed; a signed header absent.
  HttpRequest no_date = signed_request(botocore_vectors()[0]);
  no_date.headers.erase(no_date.headers.begin() + 2);
  EXPECT_EQ(verify(no_date, credentials(), local_options(), fixed_time()).error_type,
            "IncompleteSignatureException");
  HttpRequest host_unsigned = unsigned_request(botocore_vectors()[0]);
  host_unsigned.headers.push_back({"X-Amz-Date", "20240309T123456Z"});
  host_unsigned.headers.push_back(
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240309/local/imagebuilder/aws4_request, "
       "SignedHeaders=x-amz-date, Signature=00"});
  EXPECT_EQ(verify(host_unsigned, credentials(), local_options(), fixed_time()).error_type,
            "IncompleteSignatureException");
  HttpRequest header_gone = signed_request(botocore_vectors()[0]);
  header_gone.headers.erase(header_gone.headers.begin() + 1);  // Content-Type
  EXPECT_EQ(verify(header_gone, credentials(), local_options(), fixed_time()).error_type,
            "IncompleteSignatureException");
}

TEST(SigV4Test, UnknownKeysAndSessionTokensAreUnrecognized) {
  HttpRequest request = unsigned_request(botocore_vectors()[0]);
  sign(request, "AKIDUNKNOWN", kSecret, "local", "imagebuilder", fixed_time());
  Verification unknown = verify(request, credentials(), local_options(), fixed_time());
  EXPECT_EQ(unknown.error_type, "UnrecognizedClientException");
  EXPECT_EQ(unknown.message, "The security token included in the request is invalid.");

  HttpRequest token = unsigned_request(botocore_vectors()[0]);
  token.headers.push_back({"X-Amz-Security-Token", "FwoGZXIvYXdzE"});
  sign(token, kKey, kSecret, "local", "imagebuilder", fixed_time());
  EXPECT_EQ(verify(token, credentials(), local_options(), fixed_time()).error_type,
            "UnrecognizedClientException");
}

TEST(SigV4Test, ScopeMustNameTheRegionServiceAndDate) {
  HttpRequest region = unsigned_request(botocore_vectors()[0]);
  sign(region, kKey, kSecret, "us-east-1", "imagebuilder", fixed_time());
  Verification wrong_region = verify(region, credentials(), local_options(), fixed_time());
  EXPECT_EQ(wrong_region.error_type, "InvalidSignatureException");
  EXPECT_EQ(wrong_region.message,
            "Credential should be scoped to a valid region, not 'us-east-1'. ");
  VerifyOptions any_region;
  any_region.region = "";
  EXPECT_TRUE(verify(region, credentials(), any_region, fixed_time()).ok);

  HttpRequest service = unsigned_request(botocore_vectors()[0]);
  sign(service, kKey, kSecret, "local", "s3", fixed_time());
  Verification wrong_service = verify(service, credentials(), local_options(), fixed_time());
  EXPECT_EQ(wrong_service.error_type, "InvalidSignatureException");
  EXPECT_EQ(wrong_service.message,
            "Credential should be scoped to correct service: 'imagebuilder'. ");

  HttpRequest date = signed_request(botocore_vectors()[0]);
  for (Header& h : date.headers) {
    if (h.name == "X-Amz-Date") {
      h.value = "20240310T000000Z";
    }
  }
  Verification wrong_date = verify(date, credentials(), local_options(), fixed_time());
  EXPECT_EQ(wrong_date.error_type, "InvalidSignatureException");
  EXPECT_NE(wrong_date.message.find("Date in Credential scope does not match"), std::string::npos);
}

TEST(SigV4Test, ContentSha256MustBeTheBodysHash) {
  Vector v = botocore_vectors()[0];
  HttpRequest good = unsigned_request(v);
  good.headers.push_back({"X-Amz-Content-Sha256", sha256_hex(v.body)});
  sign(good, kKey, kSecret, "local", "imagebuilder", fixed_time());
  EXPECT_TRUE(verify(good, credentials(), local_options(), fixed_time()).ok);

  HttpRequest bad = unsigned_request(v);
  bad.headers.push_back({"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"});
  sign(bad, kKey, kSecret, "local", "imagebuilder", fixed_time());
  Verification result = verify(bad, credentials(), local_options(), fixed_time());
  EXPECT_EQ(result.error_type, "InvalidSignatureException");
  EXPECT_NE(result.message.find("x-amz-content-sha256"), std::string::npos);
}

TEST(SigV4Test, Encodings) {
  EXPECT_EQ(uri_encode("a b/c~d+é", false), "a%20b%2Fc~d%2B%C3%A9");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
  EXPECT_EQ(normalize_path(""), "/");
  EXPECT_EQ(normalize_path("//a//b/../c/"), "/a/c/");
  EXPECT_EQ(normalize_path("/.."), "/");
  EXPECT_EQ(normalize_path("a/.."), "/") << "a relative path that cancels out is the root";
  EXPECT_EQ(canonical_query("b=2&a&a=1&=x"), "=x&a=&a=1&b=2");
  EXPECT_EQ(canonical_query(""), "");
  EXPECT_EQ(format_amz_date(fixed_time()), "20240309T123456Z");
  EXPECT_FALSE(parse_amz_date("2024-03-09T12:34:56Z"));
  EXPECT_FALSE(parse_amz_date("20241309T123456Z"));
}

// AWS's published example of the signing key (docs: "Examples of how to derive a signing key").
TEST(SigV4Test, SigningKeyMatchesAwsExample) {
  std::string key = signing_key(kSecret, "20120215", "us-east-1", "iam");
  std::string hex;
  for (unsigned char c : key) {
    hex += fmt::format("{:02x}", c);
  }
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

}  // namespace
}  // namespace kiln::api::sigv4
