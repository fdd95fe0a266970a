#include "kiln/api/server.hpp"

#include <openssl/ssl.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "kiln/api/handlers.hpp"
#include "kiln/api/operations.hpp"
#include "kiln/api/sigv4.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/log.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/text_encoding.hpp"

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
//
// Boost.Beast over Asio: one thread (the caller of serve()) accepts connections and reads and
// writes every socket asynchronously, so a connection that sends slowly holds a few kilobytes and
// a timer, never a thread. A request read in full goes to a small pool of worker threads, which
// run the operation with their own catalog and hand the response back to the I/O thread.

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

std::atomic<uint64_t> next_server_id{1};

// Each worker thread keeps its own catalog per server (SQLite connections are not shared
// between threads); the catalogs close when the worker threads end.
thread_local std::unordered_map<uint64_t, std::unique_ptr<state::Catalog>> thread_catalogs;

// A reply as an HTTP response: exactly one x-amzn-ErrorType for an error. Text that is not
// valid UTF-8 (a client's bytes quoted in a message) is replaced, never an exception.
HttpResponse to_response(const Reply& reply, const std::string& request_id) {
  HttpResponse res;
  res.result(static_cast<unsigned>(reply.status));
  res.set("x-amzn-RequestId", request_id);
  if (!reply.error_type.empty()) {
    res.set("x-amzn-ErrorType", reply.error_type);
  }
  res.set(http::field::content_type, "application/json");
  res.body() = reply.body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return res;
}

sigv4::HttpRequest to_sigv4(const HttpRequest& req) {
  sigv4::HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  out.body = req.body();
  return out;
}

class Session;

}  // namespace

struct Server::Impl {
  ServerOptions options;
  CatalogFactory catalogs;
  Backend& backend;
  const Clock& clock;
  uint64_t id = next_server_id++;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::optional<asio::ssl::context> tls;
  std::optional<asio::thread_pool> workers;
  asio::steady_timer accept_retry{io};
  bool bound = false;
  int port = 0;
  std::atomic<bool> stopping{false};

  // Open connections, per client address and in all; the sessions, to close them on stop().
  std::mutex mutex;
  std::unordered_map<std::string, size_t> per_client;
  size_t open_connections = 0;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;
  uint64_t next_session = 1;
  // Connections refused since the last log line (one line a second at most).
  size_t refused = 0;
  std::chrono::steady_clock::time_point refused_logged{};

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

  void accept();
  void on_accept(const boost::system::error_code& ec, tcp::socket socket);
  void release(uint64_t session, const std::string& client);

  // The signature check; an error reply when the request is refused.
  std::optional<Reply> authenticate(const HttpRequest& req,
                                    std::string_view path,
                                    const std::string& remote) {
    sigv4::VerifyOptions verify_options;
    verify_options.region = options.region;
    sigv4::Verification result =
        sigv4::verify(to_sigv4(req), options.credentials, verify_options, clock.now());
    if (result.ok) {
      return std::nullopt;
    }
    KILN_LOG(kInfo,
             "api: {} {} from {} refused: {}",
             std::string(req.method_string()),
             path,
             remote,
             result.error_type);
    return error_reply({result.error_type, result.message});
  }

  // Runs on a worker thread: the response to a request read in full. Nothing thrown leaves it.
  HttpResponse respond(const HttpRequest& req, const std::string& remote) {
    std::string request_id = make_uuid_v4();
    try {
      return respond_or_throw(req, remote, request_id);
    } catch (const std::exception& e) {
      KILN_LOG(kError,
               "api: {} {} from {}: {}",
               std::string(req.method_string()),
               std::string(req.target()),
               remote,
               e.what());
    } catch (...) {
      KILN_LOG(
          kError, "api: {} {}: an unknown exception", std::string(req.method_string()), remote);
    }
    return to_response(error_reply({"ServiceException", "Internal error"}), request_id);
  }

  HttpResponse respond_or_throw(const HttpRequest& req,
                                const std::string& remote,
                                const std::string& request_id) {
    std::string_view target(req.target().data(), req.target().size());
    std::string_view raw_path = target.substr(0, target.find('?'));
    std::string_view raw_query =
        target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
    std::string path = sigv4::percent_decode(raw_path);
    std::string method(req.method_string());
    if (!validate_utf8(path).ok()) {
      return to_response(
          error_reply({"InvalidRequestException", "The request path is not valid UTF-8"}),
          request_id);
    }
    if (method == "GET" && path == "/metrics" && raw_path == path) {
      if (!options.public_metrics) {
        if (std::optional<Reply> unsigned_reply = authenticate(req, path, remote)) {
          return to_response(*unsigned_reply, request_id);
        }
      }
      HttpResponse res;
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = backend.metrics();
      return res;
    }
    const Operation* op = find_operation(method, path);
    if (op == nullptr || raw_path != path) {
      // An operation's path has nothing to encode: an encoded one names no operation either.
      return to_response(error_reply({"UnknownOperationException",
                                      fmt::format("No operation {} {}", method, path)}),
                         request_id);
    }
    if (std::optional<Reply> unsigned_reply = authenticate(req, path, remote)) {
      return to_response(*unsigned_reply, request_id);
    }
    ParsedRequest parsed = parse_request(*op, raw_query, req.body());
    if (!parsed.ok) {
      return to_response(error_reply(parsed.error), request_id);
    }
    Result<state::Catalog*> catalog = this->catalog();
    if (!catalog) {
      KILN_LOG(kError, "api: opening the catalog: {}", catalog.error().message);
      return to_response(error_reply({"ServiceException", "The catalog could not be opened"}),
                         request_id);
    }
    Reply reply = api::handle(*op, parsed.members, **catalog, backend, request_id);
    KILN_LOG(kInfo,
             "api: {} {} -> {}",
             op->name,
             remote,
             reply.error_type.empty() ? std::to_string(reply.status) : reply.error_type);
    return to_response(reply, request_id);
  }

  Reply too_large(std::optional<uint64_t> size) const {
    return error_reply(
        {"RequestEntityTooLargeException",
         size ? fmt::format("The request body of {} bytes is larger than the limit of {} bytes",
                            *size,
                            options.max_body_bytes)
              : fmt::format("The request body is larger than the limit of {} bytes",
                            options.max_body_bytes)});
  }
};

namespace {

// One connection: reads a request (headers and body under one deadline), has a worker answer
// it, writes the answer, and reads the next one while the client keeps the connection alive.
// Every step but the operation itself runs on the I/O thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, tcp::socket socket, uint64_t id, std::string client)
      : server_(server), id_(id), client_(std::move(client)) {
    boost::system::error_code ec;
    tcp::endpoint remote = socket.remote_endpoint(ec);
    remote_ = ec ? client_ : fmt::format("{}:{}", client_, remote.port());
    if (server_.tls) {
      tls_.emplace(std::move(socket), *server_.tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  ~Session() { server_.release(id_, client_); }

  void start() {
    waiting_ = true;
    lowest().expires_after(server_.options.request_timeout);
    if (tls_) {
      tls_->async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              self->waiting_ = false;
                              if (ec) {
                                self->close();
                                return;
                              }
                              self->read();
                            });
      return;
    }
    read();
  }

  // On the I/O thread, when the server stops: a connection waiting for a request is closed
  // now, one whose request is being read, handled or answered after its answer.
  void shut() {
    if (waiting_) {
      lowest().cancel();
    }
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <typename Op>
  void with_stream(Op&& op) {
    if (tls_) {
      op(*tls_);
    } else {
      op(*plain_);
    }
  }

  void read() {
    if (server_.stopping) {
      close();
      return;
    }
    waiting_ = true;
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    // One deadline for the whole request: headers and body (and the wait before them).
    lowest().expires_after(server_.options.request_timeout);
    with_stream([&](auto& stream) {
      http::async_read_header(stream,
                              buffer_,
                              *parser_,
                              [self = shared_from_this()](const boost::system::error_code& ec,
                                                          size_t) { self->on_header(ec); });
    });
  }

  void on_header(const boost::system::error_code& ec) {
    waiting_ = false;
    if (ec) {
      on_read_error(ec);
      return;
    }
    const HttpRequest& req = parser_->get();
    // A request body is framed by Content-Length or by chunked coding alone (RFC 9112 6.1).
    if (req.count(http::field::transfer_encoding) != 0 && !parser_->chunked()) {
      fail_request(400, "The request's Transfer-Encoding is not chunked");
      return;
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      with_stream([&](auto& stream) {
        asio::async_write(
            stream,
            asio::buffer(kContinue),
            [self = shared_from_this()](const boost::system::error_code& write_ec, size_t) {
              if (write_ec) {
                self->close();
                return;
              }
              self->read_body();
            });
      });
      return;
    }
    read_body();
  }

  void read_body() {
    with_stream([&](auto& stream) {
      http::async_read(stream,
                       buffer_,
                       *parser_,
                       [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                         if (ec) {
                           self->on_read_error(ec);
                           return;
                         }
                         self->dispatch();
                       });
    });
  }

  void on_read_error(const boost::system::error_code& ec) {
    if (ec == http::error::body_limit) {
      fail_request(413, "");
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      fail_request(400, "The request is not valid HTTP/1.1");
    } else {
      // The peer closed, the deadline passed, or the server stops: nothing to answer.
      if (ec == beast::error::timeout) {
        KILN_LOG(kInfo, "api: {}: closed, no whole request within the deadline", remote_);
      }
      close();
    }
  }

  // Answers a request that could not be read, then closes the connection.
  void fail_request(int status, const std::string& message) {
    std::optional<uint64_t> length;
    // Only a parser that got the whole header knows the length (a malformed header line fails
    // before it is done).
    if (parser_->is_header_done() && parser_->content_length()) {
      length = *parser_->content_length();
    }
    Reply reply = status == 413 ? server_.too_large(length)
                                : error_reply({"SerializationException", message});
    KILN_LOG(kInfo, "api: {}: {} {}", remote_, reply.status, reply.body.value("message", ""));
    response_ = to_response(reply, make_uuid_v4());
    response_->keep_alive(false);
    write();
  }

  void dispatch() {
    auto request = std::make_shared<HttpRequest>(parser_->release());
    asio::post(*server_.workers,
               [self = shared_from_this(), request, guard = asio::make_work_guard(server_.io)] {
                 auto response =
                     std::make_shared<HttpResponse>(self->server_.respond(*request, self->remote_));
                 response->keep_alive(request->keep_alive());
                 asio::post(self->server_.io, [self, response] {
                   self->response_ = std::move(*response);
                   self->write();
                 });
               });
  }

  void write() {
    if (server_.stopping) {
      response_->keep_alive(false);
    }
    response_->version(11);
    response_->prepare_payload();
    lowest().expires_after(server_.options.request_timeout);
    with_stream([&](auto& stream) {
      http::async_write(stream,
                        *response_,
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          bool again = !ec && self->response_->keep_alive();
                          self->response_.reset();
                          if (again) {
                            self->read();
                          } else {
                            self->close();
                          }
                        });
    });
  }

  // Ends the connection. A plain one stops sending and reads what the client still sends for
  // a moment (so a client that is still sending a refused body reads the answer rather than a
  // reset); a TLS one says close_notify.
  void close() {
    if (closing_) {
      return;
    }
    closing_ = true;
    boost::system::error_code ignored;
    if (tls_) {
      lowest().expires_after(std::chrono::seconds(1));
      tls_->async_shutdown([self = shared_from_this()](const boost::system::error_code&) {
        boost::system::error_code ec;
        self->lowest().socket().close(ec);
      });
      return;
    }
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(std::chrono::seconds(1));
    drain();
  }

  void drain() {
    plain_->async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
          if (ec) {
            boost::system::error_code ignored;
            self->lowest().socket().close(ignored);
            return;
          }
          self->drain();
        });
  }

  Server::Impl& server_;
  uint64_t id_;
  std::string client_;
  std::string remote_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  // Waiting for a client (its handshake or its next request): what stop() may cut short.
  bool waiting_ = false;
  bool closing_ = false;
  std::array<char, 4096> scratch_{};
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept(io, [this](const boost::system::error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (stopping || !acceptor.is_open()) {
    return;
  }
  if (ec) {
    // Out of file descriptors, most likely: try again shortly rather than spin.
    KILN_LOG(kWarning, "api: accepting a connection: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](const boost::system::error_code& wait_ec) {
      if (!wait_ec) {
        accept();
      }
    });
    return;
  }
  boost::system::error_code endpoint_ec;
  tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
  std::string client = endpoint_ec ? "unknown" : remote.address().to_string();
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mutex);
    size_t& from_client = per_client[client];
    if (from_client >= options.max_connections_per_client ||
        open_connections >= options.max_connections) {
      if (from_client == 0) {
        per_client.erase(client);
      }
      ++refused;
      auto now = std::chrono::steady_clock::now();
      if (now - refused_logged >= std::chrono::seconds(1)) {
        KILN_LOG(kWarning,
                 "api: refused {} connection(s) (last from {}): at most {} per client and {} in "
                 "all",
                 refused,
                 client,
                 options.max_connections_per_client,
                 options.max_connections);
        refused = 0;
        refused_logged = now;
      }
    } else {
      ++from_client;
      ++open_connections;
      uint64_t session_id = next_session++;
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      session = std::make_shared<Session>(*this, std::move(socket), session_id, client);
      sessions[session_id] = session;
    }
  }
  if (session) {
    session->start();
  } else {
    boost::system::error_code ignored;
    socket.close(ignored);
  }
  accept();
}

void Server::Impl::release(uint64_t session, const std::string& client) {
  std::lock_guard lock(mutex);
  sessions.erase(session);
  --open_connections;
  auto it = per_client.find(client);
  if (it != per_client.end() && --it->second == 0) {
    per_client.erase(it);
  }
}

Server::Server(ServerOptions options, CatalogFactory catalogs, Backend& backend, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(catalogs), backend, clock)) {}

Server::~Server() {
  stop();
}

Status Server::bind() {
  ServerOptions& options = impl_->options;
  bool tls_cert = !options.tls_certificate.empty();
  bool tls_key = !options.tls_private_key.empty();
  if (tls_cert != tls_key) {
    return make_error(ErrorCode::kInvalidArgument,
                      "TLS needs both a certificate and a private key");
  }
  if (tls_cert) {
    asio::ssl::context context(asio::ssl::context::tls_server);
    context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    boost::system::error_code cert_ec;
    boost::system::error_code key_ec;
    context.use_certificate_chain_file(options.tls_certificate.string(), cert_ec);
    context.use_private_key_file(options.tls_private_key.string(), asio::ssl::context::pem, key_ec);
    if (cert_ec || key_ec || SSL_CTX_check_private_key(context.native_handle()) != 1) {
      return make_error(ErrorCode::kInvalidArgument,
                        "TLS: cannot use the certificate {} with the private key {}",
                        options.tls_certificate.string(),
                        options.tls_private_key.string());
    }
    impl_->tls.emplace(std::move(context));
  }

  // Each connection is a file descriptor: use what the hard limit allows, and keep the
  // connection cap below it (with room for the catalogs, logs and builds).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &files);
      getrlimit(RLIMIT_NOFILE, &files);
    }
    constexpr rlim_t kReserved = 256;
    if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < options.max_connections + kReserved) {
      size_t allowed =
          files.rlim_cur > 2 * kReserved ? files.rlim_cur - kReserved : files.rlim_cur / 2;
      KILN_LOG(kWarning,
               "api: at most {} connections (RLIMIT_NOFILE {}), not {}",
               allowed,
               files.rlim_cur,
               options.max_connections);
      options.max_connections = allowed;
    }
  }

  boost::system::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(options.host,
                                    std::to_string(options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service,
                                    ec);
  if (ec || endpoints.empty()) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen on {}:{} ({})",
                      options.host,
                      options.port,
                      ec ? ec.message() : "no address");
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor& acceptor = impl_->acceptor;
  // Only SO_REUSEADDR (never SO_REUSEPORT, which would let a second server share the port):
  // a taken port is an error.
  if (acceptor.open(endpoint.protocol(), ec) ||
      acceptor.set_option(tcp::acceptor::reuse_address(true), ec) || acceptor.bind(endpoint, ec) ||
      acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen on {}:{} (in use, or not an address of this machine: {})",
                      options.host,
                      options.port,
                      ec.message());
  }
  impl_->port = acceptor.local_endpoint(ec).port();
  impl_->bound = true;
  return ok_status();
}

int Server::port() const {
  return impl_->port;
}

Status Server::serve() {
  if (!impl_->bound) {
    return make_error(ErrorCode::kInternal, "Server::serve before bind");
  }
  if (impl_->stopping) {
    return ok_status();
  }
  size_t threads = impl_->options.worker_threads;
  if (threads == 0) {
    threads = std::max<size_t>(4, std::thread::hardware_concurrency());
  }
  impl_->workers.emplace(threads);
  impl_->accept();
  // Runs until the acceptor is closed and every connection has ended; the workers' work guards
  // keep it running while a request is handled.
  impl_->io.run();
  impl_->workers->join();
  return ok_status();
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) {
    return;
  }
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->accept_retry.cancel();
    std::vector<std::shared_ptr<Session>> open;
    {
      std::lock_guard lock(impl->mutex);
      for (auto& [id, weak] : impl->sessions) {
        if (auto session = weak.lock()) {
          open.push_back(std::move(session));
        }
      }
    }
    for (auto& session : open) {
      session->shut();
    }
  });
}

}  // namespace kiln::api
