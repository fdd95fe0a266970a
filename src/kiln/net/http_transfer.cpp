#include "kiln/net/http_transfer.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <mutex>

#include "kiln/base/unique_fd.hpp"

namespace kiln::net {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxErrorBody = size_t{64} << 10;
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

// One header line; a status line (a new response after a redirect or 100) starts the list again.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t.response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return n;
  }
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())) != 0) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())) != 0) {
    value.remove_suffix(1);
  }
  t.response.headers.emplace_back(std::move(name), std::string(value));
  return n;
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
      .set(CURLOPT_HEADERFUNCTION, &on_header)
      .set(CURLOPT_HEADERDATA, &t)
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
      .set(CURLOPT_USERAGENT, request.user_agent.c_str())
      .set(CURLOPT_HTTPHEADER, headers);
}

void set_method(Options& o, const HttpRequest& request, Transfer& t) {
  if (request.method == "HEAD") {
    o.set(CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" && request.upload_file.empty() && !request.body.empty()) {
    // From memory: POSTFIELDS under the PUT method, so SigV4 hashes the body.
    o.set(CURLOPT_CUSTOMREQUEST, "PUT")
        .set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()))
        .set(CURLOPT_POSTFIELDS, request.body.data());
  } else if (request.method == "DELETE") {
    o.set(CURLOPT_CUSTOMREQUEST, "DELETE");
  } else if (request.method == "PUT") {
    o.set(CURLOPT_UPLOAD, 1L)
        .set(CURLOPT_INFILESIZE_LARGE, t.upload_size)
        .set(CURLOPT_READFUNCTION, &on_upload_read)
        .set(CURLOPT_READDATA, &t);
  } else if (request.method == "POST") {
    o.set(CURLOPT_POST, 1L)
        .set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()))
        .set(CURLOPT_POSTFIELDS, request.body.data());
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

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
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

}  // namespace kiln::net
