// WebDownload, S3Download and S3Upload (reference: aws-imagebuilder.md 1.6).
//
// Decisions where AWS's documentation is silent:
//
// All three
//  - `inputs` is a list of items run in order; the first failing item fails the step and later
//    items do not run (files from earlier items stay). A lone object counts as a one-item list.
//  - Failure messages read "<Module>: <what went wrong>". The one sentence AWS documents
//    (S3Download's overwrite error) is used verbatim; WebDownload uses the same sentence with its
//    own name.
//  - Downloads stream into a temporary file beside the target and are renamed over it only after
//    the transfer (and the checksum) succeeded; new files get mode 0644. Relative paths are
//    relative to kiln-toe's working directory.
//  - Logged URLs and error messages carry no user info, query or fragment (they may hold tokens).
//
// WebDownload
//  - Only http:// and https:// sources, and redirects only to those (at most 10).
//  - Of the 5 attempts, only failures that may pass are retried: no connection, DNS, reset,
//    stalls (under 1 byte/s for 60 s), HTTP 408, 429 and 5xx. Other statuses and a checksum
//    mismatch fail at once. Waits between attempts: 0.5 s, 1 s, 2 s, 4 s; the step's deadline and
//    cancellation end a wait or a transfer early. Each attempt starts over (no range resume).
//  - `checksum` without `algorithm` (or the reverse) is an input error, as is a checksum that is
//  not
//    a hex digest of the algorithm's length; hex case does not matter.
//  - An existing file that matches the checksum is kept and not downloaded, whatever `overwrite`
//    says; it still appears in the `destination` output. Otherwise an existing file is replaced
//    when overwrite is true and is an error when it is false. A folder in the target's place is an
//    error.
//  - A destination ending in '/' or naming an existing folder is a folder; the file takes the last
//    segment of the URL's path (percent-decoded). A URL without one is an error.
//
// S3Download
//  - A source ending in '*' downloads every object whose key starts with what comes before the
//    '*'; the keys keep their sub-folders below the prefix's last '/'. Keys ending in '/' (folder
//    markers) are skipped; a key with a ".." segment is refused. More than 1000 matching objects
//    is an error rather than a silent partial download; no matching object is an error too.
//  - With '*' the destination is a folder: its parent must exist, the folder and sub-folders are
//    created. Without '*', a destination ending in '/' or naming an existing folder receives the
//    object under the last segment of its key; a source key ending in '/' is an error.
//  - overwrite=false is checked for every target before anything is downloaded.
//  - expectedBucketOwner must be a 12-digit account ID (it becomes a request header).
//
// S3Upload
//  - '*' may appear only in the last path component; it matches like Go's filepath.Glob (fnmatch,
//    dot files included). Matched files upload as <prefix><name>; matched folders upload whole
//    (<prefix><name>/<relative path>) only with recurse. A folder source without '*' needs recurse
//    and uploads its content under the prefix (like `aws s3 cp --recursive`).
//  - With '*' or a folder the destination key is a prefix ('/' is added when missing). A single
//    file goes to the destination key, or under its name when the key is empty or ends in '/'.
//  - Nothing matched is an error. Links to folders are not followed; only regular files upload.
//  - One PUT per file, so at most 5 GiB per file (no multipart upload).
//
// S3 credentials come from the environment or the shared AWS files (see load_s3_config); without
// keys requests go unsigned. EC2 instance-role credentials (IMDS) are not fetched.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <thread>

#include "kiln/base/file.hpp"
#include "kiln/base/hash.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/toe/actions.hpp"
#include "kiln/toe/aws_config.hpp"
#include "kiln/toe/file_paths.hpp"
#include "kiln/toe/http_transfer.hpp"
#include "kiln/toe/s3_client.hpp"

namespace kiln::toe::actions {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kWebAttempts = 5;
constexpr std::chrono::milliseconds kFirstBackoff = 500ms;
constexpr std::chrono::milliseconds kMaxBackoff = 4s;
constexpr size_t kMaxS3DownloadObjects = 1000;
constexpr std::string_view kOverwriteRefused =
    "Error: {}: File already exists and \"overwrite\" property for \"destination\" file is set to "
    "false. Cannot download.";

// ---- shared pieces -------------------------------------------------------------------------

using Produced = std::vector<std::string>;  // what an item wrote (destination paths)
using ItemFn = std::function<Result<Produced>(const Json& item)>;

// Runs `run` on each item in order; stops at the first error.
Result<Produced> run_items(const Json& inputs, const ItemFn& run) {
  if (!inputs.is_array() && !inputs.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "inputs must be a list of objects");
  }
  Produced all;
  for (const Json& item : inputs.is_array() ? inputs : Json::array({inputs})) {
    if (!item.is_object()) {
      return make_error(ErrorCode::kInvalidArgument, "each input must be an object");
    }
    Produced produced = KILN_TRY(run(item));
    all.insert(all.end(), produced.begin(), produced.end());
  }
  return all;
}

ActionOutcome fail(const ActionContext& context, std::string_view module, const Error& error) {
  if (std::optional<std::string> why = interrupted(context)) {
    return ActionOutcome::failure(fmt::format("{}: {}", module, *why));
  }
  if (starts_with(error.message, "Error: ")) {
    return ActionOutcome::failure(error.message);
  }
  return ActionOutcome::failure(fmt::format("{}: {}", module, error.message));
}

Error overwrite_refused(std::string_view module) {
  return Error{ErrorCode::kAlreadyExists, fmt::format(fmt::runtime(kOverwriteRefused), module)};
}

TransferControl transfer_control(const ActionContext& context) {
  return TransferControl{context.deadline, context.cancel};
}

// The input as a path that must not be empty.
Result<std::string> required(const Json& item, std::string_view key) {
  std::string value(trim(input_string(item, key)));
  if (value.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "input '{}' must not be empty", key);
  }
  return value;
}

bool names_folder(const std::string& destination) {
  std::error_code ec;
  return ends_with(destination, "/") || fs::is_directory(destination, ec);
}

bool path_exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// ---- checksums -----------------------------------------------------------------------------

struct Checksum {
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  std::string name;  // as the user wrote it, for messages
  std::string hex;   // lower case
};

Result<std::optional<Checksum>> parse_checksum(const Json& item) {
  std::string hex = to_lower(trim(input_string(item, "checksum")));
  std::string name(trim(input_string(item, "algorithm")));
  if (hex.empty() && name.empty()) {
    return std::optional<Checksum>();
  }
  if (hex.empty() || name.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'checksum' and 'algorithm' must be given together");
  }
  std::optional<HashAlgorithm> algorithm = parse_hash_algorithm(name);
  if (!algorithm) {
    return make_error(ErrorCode::kInvalidArgument,
                      "algorithm '{}' is not one of MD5, SHA1, SHA256, SHA512",
                      name);
  }
  bool is_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (!is_hex || hex.size() != hex_digest_length(*algorithm)) {
    return make_error(ErrorCode::kInvalidArgument, "checksum '{}' is not a {} digest", hex, name);
  }
  return std::optional<Checksum>(Checksum{*algorithm, name, hex});
}

// ---- WebDownload ---------------------------------------------------------------------------

struct WebItem {
  std::string source;
  std::string destination;
  bool overwrite = true;
  bool verify_tls = true;
  std::optional<Checksum> checksum;
};

Result<WebItem> parse_web_item(const Json& json) {
  WebItem item;
  item.source = KILN_TRY(required(json, "source"));
  std::string scheme = to_lower(item.source.substr(0, item.source.find("://") + 3));
  if (scheme != "http://" && scheme != "https://") {
    return make_error(
        ErrorCode::kInvalidArgument, "source '{}' is not an http(s) URL", redact_url(item.source));
  }
  item.destination = KILN_TRY(required(json, "destination"));
  item.overwrite = KILN_TRY(input_bool(json, "overwrite", true));
  item.verify_tls = !KILN_TRY(input_bool(json, "ignoreCertificateErrors", false));
  item.checksum = KILN_TRY(parse_checksum(json));
  return item;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned value = 0;
    if (text[i] == '%' && i + 2 < text.size()) {
      auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (ec == std::errc() && end == text.data() + i + 3) {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// The last segment of the URL's path, as a file name.
Result<std::string> url_file_name(const std::string& url) {
  std::string bare = redact_url(url);
  size_t path = bare.find('/', bare.find("://") + 3);
  std::string name =
      path == std::string::npos ? "" : percent_decode(bare.substr(bare.rfind('/') + 1));
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot take a file name from '{}'; give a file path as destination",
                      bare);
  }
  return name;
}

Result<fs::path> web_target(const WebItem& item) {
  if (!names_folder(item.destination)) {
    return fs::path(item.destination);
  }
  return fs::path(item.destination) / KILN_TRY(url_file_name(item.source));
}

Result<bool> file_matches(const Checksum& checksum, const fs::path& path) {
  std::string actual = KILN_TRY(hash_file_hex(checksum.algorithm, path));
  return actual == checksum.hex;
}

// Whether the target must be fetched; an existing file that matches the checksum is kept.
Result<bool> needs_fetch(ActionContext& context, const WebItem& item, const fs::path& target) {
  if (!path_exists(target)) {
    return true;
  }
  std::error_code ec;
  if (fs::is_directory(target, ec)) {
    return make_error(ErrorCode::kAlreadyExists, "destination {} is a folder", target.string());
  }
  if (item.checksum && KILN_TRY(file_matches(*item.checksum, target))) {
    context.output.info(fmt::format("{} already matches the {} checksum; not downloading",
                                    target.string(),
                                    item.checksum->name));
    return false;
  }
  if (!item.overwrite) {
    return overwrite_refused("WebDownload");
  }
  return true;
}

Status verify(const Checksum& checksum, Hasher& hash, const std::string& url) {
  std::string actual = KILN_TRY(hash.hex_digest());
  if (actual != checksum.hex) {
    return make_error(ErrorCode::kCorruption,
                      "{} checksum mismatch for {}: expected {}, got {}",
                      checksum.name,
                      redact_url(url),
                      checksum.hex,
                      actual);
  }
  return ok_status();
}

Result<uint64_t> fetch_once(ActionContext& context, const WebItem& item, const fs::path& target) {
  AtomicFile file = KILN_TRY(AtomicFile::open(target));
  std::optional<Hasher> hash;
  if (item.checksum) {
    hash.emplace(KILN_TRY(Hasher::create(item.checksum->algorithm)));
  }
  auto sink = [&](std::string_view chunk) {
    if (hash) {
      hash->update(chunk);
    }
    return file.write(chunk);
  };
  HttpRequest request;
  request.url = item.source;
  request.follow_redirects = true;
  request.verify_tls = item.verify_tls;
  HttpResponse response = KILN_TRY(http_perform(request, sink, transfer_control(context)));
  if (response.status != 200) {
    return Error{error_code_for_http_status(response.status),
                 fmt::format("GET {}: HTTP {}", redact_url(item.source), response.status)};
  }
  if (hash) {
    KILN_TRY(verify(*item.checksum, *hash, item.source));
  }
  KILN_TRY(file.commit());
  return response.body_bytes;
}

// Waits `total`, or less when the step is cancelled or reaches its deadline (an error then).
Status pause(const ActionContext& context, std::chrono::milliseconds total) {
  auto until = std::chrono::steady_clock::now() + total;
  for (auto now = std::chrono::steady_clock::now(); now < until;
       now = std::chrono::steady_clock::now()) {
    if (std::optional<std::string> why = interrupted(context)) {
      bool cancelled = context.cancel != nullptr && context.cancel->load();
      return Error{cancelled ? ErrorCode::kCancelled : ErrorCode::kTimeout, *why};
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(50ms, until - now));
  }
  return ok_status();
}

std::chrono::milliseconds backoff(int failed_attempts) {
  return std::min(kFirstBackoff * (1 << (failed_attempts - 1)), kMaxBackoff);
}

Result<uint64_t> fetch_with_retries(ActionContext& context,
                                    const WebItem& item,
                                    const fs::path& target) {
  for (int attempt = 1;; ++attempt) {
    Result<uint64_t> fetched = fetch_once(context, item, target);
    if (fetched.ok() || fetched.error().code != ErrorCode::kUnavailable) {
      return fetched;
    }
    if (attempt == kWebAttempts) {
      return fetched.error().with_context(fmt::format("gave up after {} attempts", kWebAttempts));
    }
    std::chrono::milliseconds wait = backoff(attempt);
    context.output.info(fmt::format("Attempt {} of {} failed: {}; trying again in {} ms",
                                    attempt,
                                    kWebAttempts,
                                    fetched.error().message,
                                    wait.count()));
    KILN_TRY(pause(context, wait));
  }
}

Result<Produced> web_download_item(ActionContext& context, const Json& json) {
  WebItem item = KILN_TRY(parse_web_item(json));
  fs::path target = KILN_TRY(web_target(item));
  if (KILN_TRY(needs_fetch(context, item, target))) {
    KILN_TRY(make_parents(target));
    std::string shown = redact_url(item.source);
    context.output.info(fmt::format("Downloading {} to {}", shown, target.string()));
    uint64_t bytes = KILN_TRY(fetch_with_retries(context, item, target));
    context.output.info(
        fmt::format("Downloaded {} to {} ({} bytes)", shown, target.string(), bytes));
  }
  return Produced{target.string()};
}

// ---- S3 shared -----------------------------------------------------------------------------

Result<S3RequestOptions> s3_options(const ActionContext& context, const Json& item) {
  S3RequestOptions options{std::string(trim(input_string(item, "expectedBucketOwner"))),
                           transfer_control(context)};
  const std::string& owner = options.expected_bucket_owner;
  bool digits = std::all_of(owner.begin(), owner.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (!owner.empty() && (owner.size() != 12 || !digits)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "expectedBucketOwner '{}' is not a 12-digit AWS account ID",
                      owner);
  }
  return options;
}

using S3ItemFn = Result<Produced> (*)(ActionContext&, const S3Client&, const Json&);

ActionOutcome run_s3_module(ActionContext& context, std::string_view module, S3ItemFn run) {
  Result<S3Config> config = load_s3_config(context.env);
  if (!config.ok()) {
    return fail(context, module, config.error());
  }
  S3Client client(std::move(*config));
  Result<Produced> done =
      run_items(context.inputs, [&](const Json& item) { return run(context, client, item); });
  if (!done.ok()) {
    return fail(context, module, done.error());
  }
  return ActionOutcome::success();
}

// ---- S3Download ----------------------------------------------------------------------------

struct S3DownloadItem {
  S3Uri source;           // with '*': the key is the prefix before it
  bool wildcard = false;  // the source ended in '*'
  std::string destination;
  bool overwrite = true;
};

struct Download {
  S3Uri object;
  fs::path target;
};

Result<S3DownloadItem> parse_s3_download(const Json& json) {
  S3DownloadItem item;
  std::string source = KILN_TRY(required(json, "source"));
  item.source = KILN_TRY(parse_s3_uri(source));
  item.wildcard = ends_with(item.source.key, "*");
  if (item.wildcard) {
    item.source.key.pop_back();
  } else if (item.source.key.empty() || ends_with(item.source.key, "/")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "source '{}' names no object; end it with '*' to download a prefix",
                      item.source.to_string());
  }
  item.destination = KILN_TRY(required(json, "destination"));
  item.overwrite = KILN_TRY(input_bool(json, "overwrite", true));
  return item;
}

// The key's part below the listing prefix as a relative path; ".." segments are refused.
Result<fs::path> relative_path(std::string_view relative, const std::string& key) {
  fs::path out;
  for (const std::string& part : split(relative, '/')) {
    if (part == "..") {
      return make_error(ErrorCode::kInvalidArgument,
                        "object key '{}' would be written outside the destination",
                        key);
    }
    if (!part.empty() && part != ".") {
      out /= part;
    }
  }
  return out;
}

Result<std::vector<Download>> plan_prefix(const S3Client& client,
                                          const S3DownloadItem& item,
                                          const S3RequestOptions& options) {
  const S3Uri& source = item.source;
  S3Listing listing =
      KILN_TRY(client.list_objects_v2(source.bucket, source.key, kMaxS3DownloadObjects, options));
  if (listing.truncated) {
    return make_error(ErrorCode::kInvalidArgument,
                      "more than {} objects match '{}*'; S3Download takes at most {}",
                      kMaxS3DownloadObjects,
                      source.to_string(),
                      kMaxS3DownloadObjects);
  }
  fs::path folder = without_trailing_slashes(item.destination);
  size_t base = source.key.rfind('/') == std::string::npos ? 0 : source.key.rfind('/') + 1;
  std::vector<Download> plan;
  for (const S3Object& object : listing.objects) {
    fs::path relative = KILN_TRY(relative_path(object.key.substr(base), object.key));
    if (!ends_with(object.key, "/") && !relative.empty()) {
      plan.push_back({S3Uri{source.bucket, object.key}, folder / relative});
    }
  }
  if (plan.empty()) {
    return make_error(ErrorCode::kNotFound, "no objects match '{}*'", source.to_string());
  }
  return plan;
}

Result<std::vector<Download>> plan_s3_download(const S3Client& client,
                                               const S3DownloadItem& item,
                                               const S3RequestOptions& options) {
  if (item.wildcard) {
    return plan_prefix(client, item, options);
  }
  fs::path target(item.destination);
  if (names_folder(item.destination)) {
    target = fs::path(item.destination) / item.source.key.substr(item.source.key.rfind('/') + 1);
  }
  return std::vector<Download>{{item.source, target}};
}

Status check_targets(const S3DownloadItem& item, const std::vector<Download>& plan) {
  fs::path parent = item.wildcard ? without_trailing_slashes(item.destination).parent_path()
                                  : plan.front().target.parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return make_error(ErrorCode::kNotFound,
                      "the folder {} of destination '{}' does not exist",
                      parent.string(),
                      item.destination);
  }
  for (const Download& download : plan) {
    if (!item.overwrite && path_exists(download.target)) {
      return overwrite_refused("S3Download");
    }
  }
  return ok_status();
}

Result<Produced> s3_download_item(ActionContext& context,
                                  const S3Client& client,
                                  const Json& json) {
  S3DownloadItem item = KILN_TRY(parse_s3_download(json));
  S3RequestOptions options = KILN_TRY(s3_options(context, json));
  std::vector<Download> plan = KILN_TRY(plan_s3_download(client, item, options));
  KILN_TRY(check_targets(item, plan));
  Produced produced;
  for (const Download& download : plan) {
    KILN_TRY(make_parents(download.target));
    uint64_t bytes = KILN_TRY(client.get_object(download.object, download.target, options));
    context.output.info(fmt::format("Downloaded {} to {} ({} bytes)",
                                    download.object.to_string(),
                                    download.target.string(),
                                    bytes));
    produced.push_back(download.target.string());
  }
  return produced;
}

// ---- S3Upload ------------------------------------------------------------------------------

struct S3UploadItem {
  std::string source;
  S3Uri destination;
  bool recurse = false;
};

struct Upload {
  fs::path file;
  S3Uri object;
};

Result<S3UploadItem> parse_s3_upload(const Json& json) {
  S3UploadItem item;
  item.source = KILN_TRY(required(json, "source"));
  std::string destination = KILN_TRY(required(json, "destination"));
  item.destination = KILN_TRY(parse_s3_uri(destination));
  item.recurse = KILN_TRY(input_bool(json, "recurse", false));
  return item;
}

std::string key_prefix(const std::string& key) {
  return key.empty() || ends_with(key, "/") ? key : key + "/";
}

bool is_regular(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// Every regular file below `root`, as <prefix><relative path>, in key order.
Status add_tree(const fs::path& root, const S3Uri& prefix, std::vector<Upload>& out) {
  std::vector<Upload> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_regular(it->path())) {
      std::string key = prefix.key + it->path().lexically_relative(root).generic_string();
      found.push_back({it->path(), S3Uri{prefix.bucket, key}});
    }
  }
  if (ec) {
    return errno_error(ec.value(), fmt::format("listing {}", root.string()));
  }
  std::sort(found.begin(), found.end(), [](const Upload& a, const Upload& b) {
    return a.object.key < b.object.key;
  });
  out.insert(out.end(), found.begin(), found.end());
  return ok_status();
}

// The names in `folder` that match the glob `pattern`, sorted.
Result<std::vector<std::string>> glob_names(const fs::path& folder, const std::string& pattern) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (name_matches(pattern, it->path())) {
      names.push_back(it->path().filename().string());
    }
  }
  if (ec) {
    return errno_error(ec.value(), fmt::format("listing {}", folder.string()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status plan_glob(const S3UploadItem& item, std::vector<Upload>& out) {
  fs::path source(item.source);
  fs::path folder = source.parent_path().empty() ? fs::path(".") : source.parent_path();
  if (folder.string().find('*') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "source '{}': '*' may only appear in the last path component",
                      item.source);
  }
  S3Uri prefix{item.destination.bucket, key_prefix(item.destination.key)};
  for (const std::string& name : KILN_TRY(glob_names(folder, source.filename().string()))) {
    std::error_code ec;
    if (is_regular(folder / name)) {
      out.push_back({folder / name, S3Uri{prefix.bucket, prefix.key + name}});
    } else if (item.recurse && fs::is_directory(folder / name, ec)) {
      KILN_TRY(add_tree(folder / name, S3Uri{prefix.bucket, prefix.key + name + "/"}, out));
    }
  }
  return ok_status();
}

Status plan_path(const S3UploadItem& item, std::vector<Upload>& out) {
  fs::path source(item.source);
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    if (!item.recurse) {
      return make_error(ErrorCode::kInvalidArgument,
                        "source '{}' is a folder; set recurse: true to upload it",
                        item.source);
    }
    return add_tree(source, S3Uri{item.destination.bucket, key_prefix(item.destination.key)}, out);
  }
  if (!is_regular(source)) {
    return make_error(ErrorCode::kNotFound, "source '{}' is not a file or folder", item.source);
  }
  S3Uri object = item.destination;
  if (object.key.empty() || ends_with(object.key, "/")) {
    object.key += source.filename().string();
  }
  out.push_back({source, object});
  return ok_status();
}

Result<std::vector<Upload>> plan_s3_upload(const S3UploadItem& item) {
  std::vector<Upload> plan;
  if (item.source.find('*') != std::string::npos) {
    KILN_TRY(plan_glob(item, plan));
  } else {
    KILN_TRY(plan_path(item, plan));
  }
  if (plan.empty()) {
    return make_error(ErrorCode::kNotFound, "no files match '{}'", item.source);
  }
  return plan;
}

Result<Produced> s3_upload_item(ActionContext& context, const S3Client& client, const Json& json) {
  S3UploadItem item = KILN_TRY(parse_s3_upload(json));
  S3RequestOptions options = KILN_TRY(s3_options(context, json));
  std::vector<Upload> plan = KILN_TRY(plan_s3_upload(item));
  Produced produced;
  for (const Upload& upload : plan) {
    uint64_t bytes = KILN_TRY(client.put_object(upload.object, upload.file, options));
    context.output.info(fmt::format(
        "Uploaded {} to {} ({} bytes)", upload.file.string(), upload.object.to_string(), bytes));
    produced.push_back(upload.object.to_string());
  }
  return produced;
}

}  // namespace

ActionOutcome web_download(ActionContext& context) {
  Result<Produced> done =
      run_items(context.inputs, [&](const Json& item) { return web_download_item(context, item); });
  if (!done.ok()) {
    return fail(context, "WebDownload", done.error());
  }
  Json outputs = Json::object();
  outputs["destination"] = join(*done, "\n");
  return ActionOutcome::success(std::move(outputs));
}

ActionOutcome s3_download(ActionContext& context) {
  return run_s3_module(context, "S3Download", &s3_download_item);
}

ActionOutcome s3_upload(ActionContext& context) {
  return run_s3_module(context, "S3Upload", &s3_upload_item);
}

}  // namespace kiln::toe::actions
