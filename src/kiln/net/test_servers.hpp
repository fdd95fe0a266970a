#pragma once

// For tests: real servers on 127.0.0.1, started as child processes that live as long as their
// Server object — tests/servers/http_fixture.py (python3) and s3rver (npm, tests/servers). A
// server that cannot start says why in `failure`, which tests turn into a failure, never a skip:
// scripts/install-deps.sh installs what they need, so a server that does not start is a broken
// machine or a broken fixture, and CI must say so.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kiln/os/process.hpp"

namespace kiln::net::testing {

// A port that was free a moment ago (the server binds it next).
int free_port();

// Polls until 127.0.0.1:port accepts a connection; false after `limit`.
bool wait_for_port(int port, std::chrono::seconds limit);

// tests/servers of the source tree, or $KILN_TEST_SERVERS_DIR.
std::filesystem::path servers_dir();

// This process's environment plus `extra` ("NAME=value").
std::vector<std::string> environment_with(const std::vector<std::string>& extra);

struct Server {
  int port = -1;
  std::unique_ptr<os::ChildProcess> process;  // killed and reaped with the Server
  std::string failure;                        // why it did not start

  std::string url(std::string_view path = "") const;
  void stop() { process.reset(); }
};

// Runs `argv` (with this environment plus `extra_env`) and waits for it to listen on `port`.
Server start_server(std::vector<std::string> argv,
                    int port,
                    const std::vector<std::string>& extra_env = {});

// tests/servers/http_fixture.py serving `root`, with `extra_args` after --port and --root.
Server start_http_fixture(const std::filesystem::path& root,
                          const std::vector<std::string>& extra_args = {});

// s3rver keeping its buckets in `data`; any access key works (it checks no signatures).
Server start_s3rver(const std::filesystem::path& data);

}  // namespace kiln::net::testing
