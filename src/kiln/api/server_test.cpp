#include "kiln/api/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "kiln/base/file.hpp"

namespace kiln::api {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("KILN_ACCESS_KEY_ID");
    unsetenv("KILN_SECRET_ACCESS_KEY");
    Result<TempDir> dir = TempDir::create("kiln-api-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }
  void TearDown() override {
    unsetenv("KILN_ACCESS_KEY_ID");
    unsetenv("KILN_SECRET_ACCESS_KEY");
  }
  std::filesystem::path write(const std::string& text) {
    std::filesystem::path file = dir_->path() / "credentials";
    EXPECT_TRUE(write_file(file, text).ok());
    return file;
  }
  std::optional<TempDir> dir_;
};

TEST_F(CredentialsTest, ReadsEveryProfileOfAnIniFile) {
  auto file = write(
      "# kiln's keys\n"
      "[default]\n"
      "aws_access_key_id = AKIDONE\n"
      "aws_secret_access_key = secret/one+x\n"
      "region = local\n"
      "\n"
      "[ci]\n"
      "AWS_ACCESS_KEY_ID=AKIDTWO\n"
      "aws_secret_access_key=two\n");
  Result<std::map<std::string, std::string>> keys = load_credentials(file);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(*keys,
            (std::map<std::string, std::string>{{"AKIDONE", "secret/one+x"}, {"AKIDTWO", "two"}}));
}

TEST_F(CredentialsTest, EnvironmentAddsAKey) {
  setenv("KILN_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("KILN_SECRET_ACCESS_KEY", "env-secret", 1);
  Result<std::map<std::string, std::string>> keys = load_credentials(dir_->path() / "absent");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(*keys, (std::map<std::string, std::string>{{"AKIDENV", "env-secret"}}));
  EXPECT_TRUE(load_credentials("").ok());
}

TEST_F(CredentialsTest, RefusesHalfAKey) {
  EXPECT_FALSE(load_credentials(write("[a]\naws_access_key_id = AKID\n")).ok());
  EXPECT_FALSE(load_credentials(write("[a\naws_access_key_id = AKID\n")).ok());
  EXPECT_FALSE(load_credentials(write("[a]\njust words\n")).ok());
  setenv("KILN_ACCESS_KEY_ID", "AKIDENV", 1);
  EXPECT_FALSE(load_credentials("").ok());
}

struct NoBackend final : Backend {
  Result<std::string> create_image(const Json&) override { return std::string(); }
  Result<std::string> start_pipeline_execution(const std::string&) override {
    return std::string();
  }
  Status cancel_image(const std::string&) override { return ok_status(); }
  void pipelines_changed() override {}
  std::string metrics() override { return ""; }
};

// A connection to 127.0.0.1:port from `source` (any 127.0.0.0/8 address); -1 on failure.
int connect_from(const char* source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// What the server sends on `fd` within `timeout` until it closes: "" when it closed without an
// answer, "timeout" when it did neither.
std::string read_until_closed(int fd, std::chrono::milliseconds timeout) {
  std::string got;
  auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return "timeout";
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    char buffer[4096];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      return got;
    }
    got.append(buffer, static_cast<size_t>(n));
  }
}

// The server with a catalog factory that fails (every request that gets that far is a 500),
// serving on a thread of its own until the fixture ends.
class RunningServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options) {
    options.port = 0;
    options.credentials = {{"AKIDTEST", "secret"}};
    server_ = std::make_unique<Server>(
        options,
        []() -> Result<std::unique_ptr<state::Catalog>> {
          return make_error(ErrorCode::kUnavailable, "no catalog in this test");
        },
        backend_,
        clock_);
    ASSERT_TRUE(server_->bind().ok());
    serving_ = std::thread([this] { EXPECT_TRUE(server_->serve().ok()); });
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
      serving_.join();
    }
  }
  NoBackend backend_;
  SystemClock clock_;
  std::unique_ptr<Server> server_;
  std::thread serving_;
};

TEST_F(RunningServerTest, SlowConnectionsDoNotHoldTheServer) {
  start({});
  std::vector<int> slow;
  for (int i = 0; i < 32; ++i) {
    int fd = connect_from("127.0.0.2", server_->port());
    ASSERT_GE(fd, 0);
    std::string_view partial = "POST /ListImages HTTP/1.1\r\nHo";
    ASSERT_EQ(write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
    slow.push_back(fd);
  }
  int fd = connect_from("127.0.0.1", server_->port());
  ASSERT_GE(fd, 0);
  std::string request = "GET /Nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string answer = read_until_closed(fd, std::chrono::seconds(5));
  EXPECT_EQ(answer.rfind("HTTP/1.1 404", 0), 0u) << answer;
  EXPECT_NE(answer.find("x-amzn-ErrorType: UnknownOperationException"), std::string::npos);
  close(fd);
  for (int s : slow) {
    close(s);
  }
}

TEST_F(RunningServerTest, CapsConnectionsPerClient) {
  ServerOptions options;
  options.max_connections_per_client = 3;
  start(options);
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) {
    fds.push_back(connect_from("127.0.0.3", server_->port()));
    ASSERT_GE(fds.back(), 0);
  }
  // The two over the cap are closed at once, without an answer; the three stay open.
  EXPECT_EQ(read_until_closed(fds[3], std::chrono::seconds(5)), "");
  EXPECT_EQ(read_until_closed(fds[4], std::chrono::seconds(5)), "");
  EXPECT_EQ(read_until_closed(fds[0], std::chrono::milliseconds(300)), "timeout");
  // Another address is not affected.
  int other = connect_from("127.0.0.4", server_->port());
  EXPECT_EQ(read_until_closed(other, std::chrono::milliseconds(300)), "timeout");
  close(other);
  for (int fd : fds) {
    close(fd);
  }
}

TEST_F(RunningServerTest, ClosesARequestThatDoesNotFinishInTime) {
  ServerOptions options;
  options.request_timeout = std::chrono::milliseconds(500);
  start(options);
  int fd = connect_from("127.0.0.1", server_->port());
  ASSERT_GE(fd, 0);
  auto begin = std::chrono::steady_clock::now();
  // Headers, then a byte every 100 ms: each read is quick, the request never ends.
  std::string_view head = "POST /ListImages HTTP/1.1\r\nContent-Length: 100\r\n\r\n";
  ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  std::string answer;
  for (int i = 0; i < 50; ++i) {
    if (write(fd, "{", 1) != 1) {
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      answer = read_until_closed(fd, std::chrono::seconds(1));
      break;
    }
  }
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(answer, "");
  EXPECT_GE(took, std::chrono::milliseconds(450));
  EXPECT_LT(took, std::chrono::seconds(3));
  close(fd);
}

TEST_F(RunningServerTest, RefusesBadFramingBeforeReadingTheBody) {
  ServerOptions options;
  options.max_body_bytes = 1000;
  start(options);
  for (std::string head : {"POST /ListImages HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                           "POST /ListImages HTTP/1.1\r\nContent-Length: 2\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           "POST /ListImages HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                           "POST /ListImages HTTP/1.1\r\nContent-Length: 5000\r\n\r\n"}) {
    int fd = connect_from("127.0.0.1", server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    std::string answer = read_until_closed(fd, std::chrono::seconds(2));
    bool too_large = head.find("5000") != std::string::npos;
    EXPECT_EQ(answer.rfind(too_large ? "HTTP/1.1 413" : "HTTP/1.1 400", 0), 0u) << head << answer;
    size_t first = answer.find("x-amzn-ErrorType");
    EXPECT_NE(first, std::string::npos);
    EXPECT_EQ(answer.find("x-amzn-ErrorType", first + 1), std::string::npos) << answer;
    close(fd);
  }
}

TEST(ServerTest, BindsAnyPortAndStops) {
  NoBackend backend;
  SystemClock clock;
  ServerOptions options;
  options.port = 0;
  Server server(
      options,
      []() -> Result<std::unique_ptr<state::Catalog>> {
        return make_error(ErrorCode::kUnavailable, "no catalog in this test");
      },
      backend,
      clock);
  ASSERT_TRUE(server.bind().ok());
  EXPECT_GT(server.port(), 0);
  // The same port again is taken.
  ServerOptions same = options;
  same.port = server.port();
  Server second(same, {}, backend, clock);
  Status taken = second.bind();
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kUnavailable);
  // TLS needs both files.
  ServerOptions half = options;
  half.tls_certificate = "/nonexistent/cert.pem";
  EXPECT_EQ(Server(half, {}, backend, clock).bind().error().code, ErrorCode::kInvalidArgument);

  std::thread serving([&] { EXPECT_TRUE(server.serve().ok()); });
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace kiln::api
