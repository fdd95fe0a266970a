#include "kiln/api/server.hpp"

#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <unordered_map>

#include "kiln/api/handlers.hpp"
#include "kiln/api/operations.hpp"
#include "kiln/api/sigv4.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/log.hpp"
#include "kiln/base/scope_exit.hpp"
#include "kiln/base/strings.hpp"

namespace kiln::api {

// --- Credentials ----------------------------------------------------------------------------

Result<std::map<std::string, std::string>> load_credentials(const std::filesystem::path& file) {
  std::map<std::string, std::string> credentials;
  if (!file.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      std::string text = KILN_TRY_CTX(read_file(file), "credentials file " + file.string());
      std::string profile;
      std::string key_id;
      std::string secret;
      int line_number = 0;
      auto flush = [&]() -> Status {
        if (key_id.empty() && secret.empty()) {
          return ok_status();
        }
        if (key_id.empty() || secret.empty()) {
          return make_error(ErrorCode::kInvalidArgument,
                            "credentials file {}: profile [{}] needs both aws_access_key_id and "
                            "aws_secret_access_key",
                            file.string(),
                            profile);
        }
        credentials[key_id] = secret;
        key_id.clear();
        secret.clear();
        return ok_status();
      };
      for (const std::string& raw : split(text, '\n')) {
        ++line_number;
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
          continue;
        }
        if (line.front() == '[') {
          if (line.back() != ']') {
            return make_error(ErrorCode::kInvalidArgument,
                              "credentials file {}:{}: a section line must end with ']'",
                              file.string(),
                              line_number);
          }
          KILN_TRY(flush());
          profile = std::string(trim(line.substr(1, line.size() - 2)));
          continue;
        }
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
          return make_error(ErrorCode::kInvalidArgument,
                            "credentials file {}:{}: expected KEY = VALUE",
                            file.string(),
                            line_number);
        }
        std::string key = to_lower(trim(line.substr(0, eq)));
        std::string value(trim(line.substr(eq + 1)));
        if (key == "aws_access_key_id") {
          key_id = value;
        } else if (key == "aws_secret_access_key") {
          secret = value;
        }
      }
      KILN_TRY(flush());
    } else if (ec) {
      return make_error(ErrorCode::kIo, "credentials file {}: {}", file.string(), ec.message());
    }
  }
  const char* env_key = std::getenv("KILN_ACCESS_KEY_ID");
  const char* env_secret = std::getenv("KILN_SECRET_ACCESS_KEY");
  bool has_key = env_key != nullptr && *env_key != '\0';
  bool has_secret = env_secret != nullptr && *env_secret != '\0';
  if (has_key != has_secret) {
    return make_error(ErrorCode::kInvalidArgument,
                      "set both KILN_ACCESS_KEY_ID and KILN_SECRET_ACCESS_KEY, or neither");
  }
  if (has_key) {
    credentials[env_key] = env_secret;
  }
  return credentials;
}

// --- Server ---------------------------------------------------------------------------------

namespace {

std::atomic<uint64_t> next_server_id{1};

// Each worker thread keeps its own catalog per server (SQLite connections are not shared
// between threads); the catalogs close when the thread pool's threads end.
thread_local std::unordered_map<uint64_t, std::unique_ptr<state::Catalog>> thread_catalogs;

void send(httplib::Response& res, const Reply& reply, const std::string& request_id) {
  res.status = reply.status;
  res.set_header("x-amzn-RequestId", request_id);
  if (!reply.error_type.empty()) {
    res.set_header("x-amzn-ErrorType", reply.error_type);
  }
  res.set_content(reply.body.dump(), "application/json");
}

sigv4::HttpRequest to_sigv4(const httplib::Request& req) {
  sigv4::HttpRequest out;
  out.method = req.method;
  out.target = req.target;
  for (const auto& [name, value] : req.headers) {
    // cpp-httplib adds these to the request it received; they are not the client's.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT") {
      continue;
    }
    out.headers.push_back({name, value});
  }
  out.body = req.body;
  return out;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  CatalogFactory catalogs;
  Backend& backend;
  const Clock& clock;
  uint64_t id = next_server_id++;
  std::unique_ptr<httplib::Server> http;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<bool> serving{false};

  Impl(ServerOptions o, CatalogFactory c, Backend& b, const Clock& cl)
      : options(std::move(o)), catalogs(std::move(c)), backend(b), clock(cl) {}

  Result<state::Catalog*> catalog() {
    auto it = thread_catalogs.find(id);
    if (it != thread_catalogs.end()) {
      return it->second.get();
    }
    std::unique_ptr<state::Catalog> opened = KILN_TRY(catalogs());
    state::Catalog* raw = opened.get();
    thread_catalogs[id] = std::move(opened);
    return raw;
  }

  // The signature check; fills `res` and returns false when the request is refused.
  bool authenticate(const httplib::Request& req,
                    httplib::Response& res,
                    const std::string& request_id) {
    sigv4::VerifyOptions verify_options;
    verify_options.region = options.region;
    sigv4::Verification result =
        sigv4::verify(to_sigv4(req), options.credentials, verify_options, clock.now());
    if (result.ok) {
      return true;
    }
    KILN_LOG(kInfo,
             "api: {} {} from {} refused: {}",
             req.method,
             req.path,
             req.remote_addr,
             result.error_type);
    send(res, error_reply({result.error_type, result.message}), request_id);
    return false;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    std::string request_id = make_uuid_v4();
    if (req.body.size() > options.max_body_bytes) {
      send(res, too_large(req.body.size()), request_id);
      return;
    }
    std::string_view target = req.target;
    std::string_view raw_path = target.substr(0, target.find('?'));
    std::string_view raw_query =
        target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);

    if (req.method == "GET" && req.path == "/metrics") {
      if (!options.public_metrics && !authenticate(req, res, request_id)) {
        return;
      }
      res.set_content(backend.metrics(), "text/plain; version=0.0.4; charset=utf-8");
      return;
    }
    const Operation* op = find_operation(req.method, req.path);
    if (op == nullptr || raw_path != req.path) {
      // An operation's path has nothing to encode: an encoded one names no operation either.
      send(res,
           error_reply({"UnknownOperationException",
                        fmt::format("No operation {} {}", req.method, req.path)}),
           request_id);
      return;
    }
    if (!authenticate(req, res, request_id)) {
      return;
    }
    ParsedRequest parsed = parse_request(*op, raw_query, req.body);
    if (!parsed.ok) {
      send(res, error_reply(parsed.error), request_id);
      return;
    }
    Result<state::Catalog*> catalog = catalog_for_request();
    if (!catalog) {
      KILN_LOG(kError, "api: opening the catalog: {}", catalog.error().message);
      send(res,
           error_reply(
               {"ServiceException", "The catalog could not be opened: " + catalog.error().message}),
           request_id);
      return;
    }
    Reply reply = api::handle(*op, parsed.members, **catalog, backend, request_id);
    KILN_LOG(kInfo,
             "api: {} {} -> {}",
             op->name,
             req.remote_addr,
             reply.error_type.empty() ? std::to_string(reply.status) : reply.error_type);
    send(res, reply, request_id);
  }

  Result<state::Catalog*> catalog_for_request() { return catalog(); }

  Reply too_large(size_t size) const {
    return error_reply(
        {"RequestEntityTooLargeException",
         fmt::format("The request body of {} bytes is larger than the limit of {} bytes",
                     size,
                     options.max_body_bytes)});
  }
};

Server::Server(ServerOptions options, CatalogFactory catalogs, Backend& backend, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(catalogs), backend, clock)) {}

Server::~Server() {
  stop();
}

Status Server::bind() {
  const ServerOptions& options = impl_->options;
  bool tls_cert = !options.tls_certificate.empty();
  bool tls_key = !options.tls_private_key.empty();
  if (tls_cert != tls_key) {
    return make_error(ErrorCode::kInvalidArgument,
                      "TLS needs both a certificate and a private key");
  }
  if (tls_cert) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_certificate.c_str(),
                                                    options.tls_private_key.c_str());
    if (!ssl->is_valid()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "TLS: cannot use the certificate {} with the private key {}",
                        options.tls_certificate.string(),
                        options.tls_private_key.string());
    }
    impl_->http = std::move(ssl);
  } else {
    impl_->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *impl_->http;
  http.set_payload_max_length(options.max_body_bytes);
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server bind the same port
  // and share its connections: only SO_REUSEADDR here, so a taken port is an error.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  Impl* impl = impl_.get();
  auto handler = [impl](const httplib::Request& req, httplib::Response& res) {
    impl->handle(req, res);
  };
  http.Get(".*", handler);
  http.Put(".*", handler);
  http.Post(".*", handler);
  http.Delete(".*", handler);
  // What the handler did not answer: a body over the limit (413, skipped unread), a method no
  // operation has (404), a request cpp-httplib could not parse (400).
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [impl](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        std::string request_id = make_uuid_v4();
        Reply reply;
        if (res.status == 413) {
          reply = impl->too_large(
              std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10));
        } else if (res.status == 404 || res.status == 405) {
          reply = error_reply({"UnknownOperationException",
                               fmt::format("No operation {} {}", req.method, req.path)});
        } else {
          reply = error_reply({"SerializationException", "The request could not be read"});
          reply.status = res.status;
        }
        send(res, reply, request_id);
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        KILN_LOG(kError, "api: {} {}: {}", req.method, req.path, what);
        send(res, error_reply({"ServiceException", "Internal error: " + what}), make_uuid_v4());
      });

  // Headers and body go out in two writes: without TCP_NODELAY the second waits for the first's
  // delayed ACK (~40 ms per response). Clients such as the AWS CLI keep connections open: do not
  // close one every 5 requests (cpp-httplib's default).
  http.set_tcp_nodelay(true);
  http.set_keep_alive_max_count(1000);
  int port = options.port;
  if (port == 0) {
    port = http.bind_to_any_port(options.host);
    if (port < 0) {
      return make_error(ErrorCode::kUnavailable, "cannot listen on {}:0", options.host);
    }
  } else if (!http.bind_to_port(options.host, port)) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen on {}:{} (in use, or not an address of this machine)",
                      options.host,
                      port);
  }
  impl_->port = port;
  return ok_status();
}

int Server::port() const {
  return impl_->port;
}

Status Server::serve() {
  if (!impl_->http) {
    return make_error(ErrorCode::kInternal, "Server::serve before bind");
  }
  impl_->serving = true;
  ScopeExit done([this] { impl_->serving = false; });
  if (impl_->stopping) {
    return ok_status();
  }
  if (!impl_->http->listen_after_bind() && !impl_->stopping) {
    return make_error(
        ErrorCode::kUnavailable, "serving {}:{} failed", impl_->options.host, impl_->port);
  }
  return ok_status();
}

void Server::stop() {
  impl_->stopping = true;
  if (!impl_->http) {
    return;
  }
  // cpp-httplib's stop() only closes a listener that runs: when serve() has been called but
  // is not listening yet, wait (briefly) until it is.
  for (int i = 0; i < 2000 && impl_->serving && !impl_->http->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http->stop();
}

}  // namespace kiln::api
