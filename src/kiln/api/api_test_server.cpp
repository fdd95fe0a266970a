// kiln_api_test_server ROOT PORT_FILE: the API server on 127.0.0.1 (any free port, written to
// PORT_FILE once it listens) over the catalog ROOT/state.db, with the recording test backend
// (images are recorded, never built). Credentials come from $KILN_ACCESS_KEY_ID and
// $KILN_SECRET_ACCESS_KEY (and the credentials file $KILN_CREDENTIALS_FILE, if set). Serves until
// SIGTERM or SIGINT. For tests/integration/api_awscli.sh, which drives it with the AWS CLI.

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "kiln/api/api_testing.hpp"
#include "kiln/api/server.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/log.hpp"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "kiln_api_test_server: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln;
  if (argc != 3) {
    return fail("usage: kiln_api_test_server ROOT PORT_FILE");
  }
  std::filesystem::path root = argv[1];
  std::filesystem::path port_file = argv[2];
  log::set_level(log::Level::kInfo);

  // SIGTERM/SIGINT are waited for by a thread, which stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Result<state::Account> account = state::Account::from_environment();
  if (!account) {
    return fail(account.error().message);
  }
  SystemClock clock;
  std::filesystem::path db = root / "state.db";
  auto open = [&]() { return state::Catalog::open(db, *account, clock); };
  Result<std::unique_ptr<state::Catalog>> backend_catalog = open();
  if (!backend_catalog) {
    return fail(backend_catalog.error().message);
  }
  api::testing::RecordingBackend backend([&]() -> state::Catalog& { return **backend_catalog; });

  const char* file = std::getenv("KILN_CREDENTIALS_FILE");
  Result<std::map<std::string, std::string>> credentials =
      api::load_credentials(file != nullptr ? file : "");
  if (!credentials) {
    return fail(credentials.error().message);
  }
  if (credentials->empty()) {
    return fail("no credentials: set KILN_ACCESS_KEY_ID and KILN_SECRET_ACCESS_KEY");
  }
  api::ServerOptions options;
  options.port = 0;
  options.credentials = *credentials;
  if (const char* region = std::getenv("KILN_API_REGION"); region != nullptr) {
    options.region = region;
  }
  if (const char* max = std::getenv("KILN_API_MAX_BODY"); max != nullptr) {
    options.max_body_bytes = std::stoul(max);
  }
  if (const char* seconds = std::getenv("KILN_API_REQUEST_TIMEOUT");
      seconds != nullptr && *seconds != '\0') {
    options.request_timeout = std::chrono::seconds(std::stoul(seconds));
  }
  if (const char* max = std::getenv("KILN_API_MAX_CONNECTIONS_PER_CLIENT");
      max != nullptr && *max != '\0') {
    options.max_connections_per_client = std::stoul(max);
  }
  options.tls_certificate =
      std::getenv("KILN_API_TLS_CERT") ? std::getenv("KILN_API_TLS_CERT") : "";
  options.tls_private_key = std::getenv("KILN_API_TLS_KEY") ? std::getenv("KILN_API_TLS_KEY") : "";
  api::Server server(options, open, backend, clock);
  if (Status bound = server.bind(); !bound) {
    return fail(bound.error().message);
  }

  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    server.stop();
  });
  std::thread serving([&] {
    if (Status served = server.serve(); !served) {
      std::fprintf(stderr, "kiln_api_test_server: %s\n", served.error().message.c_str());
    }
  });
  // The port file appears once the server accepts connections.
  Status written = write_file_atomic(port_file, std::to_string(server.port()) + "\n");
  if (!written) {
    std::fprintf(stderr, "kiln_api_test_server: %s\n", written.error().message.c_str());
  }
  serving.join();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}
