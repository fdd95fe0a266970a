#pragma once

// The Image Builder API (REST-JSON, 2019-12-02) over HTTP: the methods, paths, query parameters,
// members, errors and pagination of botocore's `imagebuilder` service model, so the AWS CLI and
// boto3 work against kiln with --endpoint-url (docs/api.md). Every request must carry a valid
// AWS Signature Version 4 made with a known access key; anything else gets AWS's error and does
// nothing.

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
  size_t max_body_bytes = 1 << 20;
  // GET /metrics without a signature (for Prometheus, which cannot sign); signed otherwise.
  bool public_metrics = false;
};

// Access keys from $KILN_ACCESS_KEY_ID/$KILN_SECRET_ACCESS_KEY and a credentials file in the AWS
// CLI's INI format ([profile] aws_access_key_id = ..., aws_secret_access_key = ...).
Result<std::map<std::string, std::string>> load_credentials(const std::filesystem::path& file);

// Opens a catalog for one request (each server thread gets its own connection).
using CatalogFactory = std::function<Result<std::unique_ptr<state::Catalog>>()>;

class Server {
 public:
  Server(ServerOptions options, CatalogFactory catalogs, Backend& backend, const Clock& clock);
  ~Server();
  // Binds the address; kUnavailable when it is taken. After this port() is known.
  Status bind();
  int port() const;
  // Serves until stop(); returns when the listener is closed.
  Status serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::api
