#include "kiln/net/s3_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/text_encoding.hpp"

namespace kiln::net {
namespace fs = std::filesystem;

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

constexpr size_t kMaxListBody = 64u << 20;
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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

}  // namespace kiln::net
