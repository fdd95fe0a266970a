#include "kiln/net/test_servers.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

extern char** environ;

namespace kiln::net::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool wait_for_port(int port, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!accepts_connections(port)) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

fs::path servers_dir() {
  if (const char* dir = std::getenv("KILN_TEST_SERVERS_DIR")) {
    return dir;
  }
  return KILN_TEST_SERVERS_SOURCE_DIR;
}

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env(extra);
  for (char** entry = environ; *entry != nullptr; ++entry) {
    env.emplace_back(*entry);
  }
  return env;
}

std::string Server::url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port, path);
}

Server start_server(std::vector<std::string> argv,
                    int port,
                    const std::vector<std::string>& extra_env) {
  Server server;
  server.port = port;
  os::ProcessSpec spec{
      std::move(argv), extra_env.empty() ? extra_env : environment_with(extra_env), {}};
  Result<os::ChildProcess> child = os::ChildProcess::spawn(spec);
  if (!child.ok()) {
    server.failure = child.error().message;
    return server;
  }
  server.process = std::make_unique<os::ChildProcess>(std::move(*child));
  if (!wait_for_port(port, 20s)) {
    server.failure = fmt::format("the server did not listen on port {}", port);
    server.process.reset();
  }
  return server;
}

Server start_http_fixture(const fs::path& root, const std::vector<std::string>& extra_args) {
  fs::path script = servers_dir() / "http_fixture.py";
  std::optional<fs::path> python = os::find_program("python3");
  if (!python || !fs::exists(script)) {
    return Server{-1, nullptr, "python3 or tests/servers/http_fixture.py is missing"};
  }
  int port = free_port();
  std::vector<std::string> argv = {
      python->string(), script.string(), "--port", std::to_string(port), "--root", root.string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return start_server(std::move(argv), port);
}

Server start_s3rver(const fs::path& data) {
  fs::path binary = servers_dir() / "node_modules/.bin/s3rver";
  if (!fs::exists(binary) || !os::find_program("node")) {
    return Server{-1, nullptr, "s3rver is not installed (npm install in tests/servers)"};
  }
  int port = free_port();
  return start_server(
      {binary.string(),
       "--directory",
       data.string(),
       "--port",
       std::to_string(port),
       "--address",
       "127.0.0.1",
       "--silent"},
      port,
      // s3rver makes continuation tokens with DES, which Node 17+ (OpenSSL 3) only has in its
      // legacy provider; without it every truncated listing fails with InternalError.
      {"NODE_OPTIONS=--openssl-legacy-provider"});
}

}  // namespace kiln::net::testing
