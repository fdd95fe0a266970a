#pragma once

// The Image Builder API (REST-JSON, 2019-12-02) over HTTP: the methods, paths, query parameters,
// members, errors and pagination of botocore's `imagebuilder` service model, so the AWS CLI and
// boto3 work against kiln with --endpoint-url (docs/api.md). Every request must carry a valid
// AWS Signature Version 4 made with a known access key; anything else gets AWS's error and does
// nothing.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kiln/api/backend.hpp"
#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::api {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8088;                 // 0: any free port (port() says which)
  // Access key id -> secret access key.
  std::map<std::string, std::string> credentials;
  std::string region = "local";           // the region requests must be signed for ("" = any)
  std::filesystem::path tls_certificate;  // both set: HTTPS
  std::filesystem::path tls_private_key;
  size_t max_body_bytes = 1 << 20;  // a larger body is refused (413) before it is read
  size_t max_header_bytes = 16 << 10;
  // A connection gets this long for a whole request, headers and body (and for a kept-alive
  // connection, the wait before it); then it is closed. Writing a response has the same limit.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(20);
  // Connections open at once: from one client address, and in all (lowered to what
  // RLIMIT_NOFILE allows). A connection over either is closed as soon as it is accepted.
  size_t max_connections_per_client = 64;
  size_t max_connections = 4096;
  // The threads that run the operations (reading and writing sockets is asynchronous, on the
  // thread that calls serve()); 0: the number of processors, at least 4.
  size_t worker_threads = 0;
  // GET /metrics without a signature (for Prometheus, which cannot sign); signed otherwise.
  bool public_metrics = false;
};

// Access keys from $KILN_ACCESS_KEY_ID/$KILN_SECRET_ACCESS_KEY and a credentials file in the AWS
// CLI's INI format ([profile] aws_access_key_id = ..., aws_secret_access_key = ...).
Result<std::map<std::string, std::string>> load_credentials(const std::filesystem::path& file);

// Opens a catalog for one request (each worker thread gets its own connection).
using CatalogFactory = std::function<Result<std::unique_ptr<state::Catalog>>()>;

class Server {
 public:
  Server(ServerOptions options, CatalogFactory catalogs, Backend& backend, const Clock& clock);
  ~Server();
  // Binds the address; kUnavailable when it is taken. After this port() is known.
  Status bind();
  int port() const;
  // Serves until stop(); returns once the listener is closed, the requests being handled are
  // answered and every connection is closed.
  Status serve();
  void stop();

  struct Impl;  // server.cpp's (public only for its connections)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::api
