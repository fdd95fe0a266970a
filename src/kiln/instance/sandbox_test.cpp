#include "kiln/instance/sandbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace kiln::instance {
namespace {

SandboxSpec spec() {
  return SandboxSpec{{"/r/layers/b", "/r/layers/a"},
                     "/r/i/upper",
                     "/r/i/work",
                     "/r/i/merged",
                     "i-0123456789abcdef0",
                     Network::kHost,
                     {{"/opt/kiln", "/.kiln/toe", true}, {"/logs/x", "/.kiln/logs", false}}};
}

bool contains_sequence(const std::vector<std::string>& args, std::vector<std::string> seq) {
  return std::search(args.begin(), args.end(), seq.begin(), seq.end()) != args.end();
}

TEST(SandboxTest, BwrapMakesTheOverlayTheRootWithOwnNamespaces) {
  std::vector<std::string> args = bwrap_arguments(spec(), "/proc/self/fd/4", 3);
  EXPECT_TRUE(contains_sequence(args, {"--unshare-pid", "--unshare-uts", "--unshare-ipc"}));
  EXPECT_TRUE(contains_sequence(args, {"--bind", "/r/i/merged", "/"}));
  EXPECT_TRUE(contains_sequence(args, {"--proc", "/proc", "--dev", "/dev"}));
  EXPECT_TRUE(contains_sequence(args, {"--ro-bind", "/proc/sys", "/proc/sys"}));
  EXPECT_TRUE(contains_sequence(args, {"--hostname", "i-0123456789abcdef0"}));
  EXPECT_TRUE(contains_sequence(args, {"--info-fd", "3"}));
  EXPECT_TRUE(contains_sequence(args, {"--ro-bind", "/opt/kiln", "/.kiln/toe"}));
  EXPECT_TRUE(contains_sequence(args, {"--bind", "/logs/x", "/.kiln/logs"}));
  EXPECT_TRUE(contains_sequence(args, {"--", "/proc/self/fd/4"}));
  EXPECT_EQ(args.back(), "/proc/self/fd/4");
  EXPECT_EQ(std::count(args.begin(), args.end(), "--unshare-net"), 0);
}

TEST(SandboxTest, NetworkNoneGetsItsOwnNetworkNamespace) {
  SandboxSpec s = spec();
  s.network = Network::kNone;
  std::vector<std::string> args = bwrap_arguments(s, "/init", 3);
  EXPECT_EQ(std::count(args.begin(), args.end(), "--unshare-net"), 1);
}

TEST(SandboxTest, JsonRoundTrip) {
  SandboxSpec s = spec();
  Result<SandboxSpec> back = sandbox_from_json(to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(s));
}

TEST(SandboxTest, MalformedJsonIsCorruption) {
  Result<SandboxSpec> back = sandbox_from_json(Json{{"lower", 5}});
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ErrorCode::kCorruption);
  Json no_layers = to_json(spec());
  no_layers["lower"] = Json::array();
  EXPECT_FALSE(sandbox_from_json(no_layers).ok());
}

TEST(SandboxTest, EnvironmentIsTheInstancesNotTheHosts) {
  std::vector<std::string> env = instance_environment("i-1", "xterm");
  EXPECT_NE(std::find(env.begin(), env.end(), "HOME=/root"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "TERM=xterm"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "HOSTNAME=i-1"), env.end());
  EXPECT_EQ(instance_environment("i-1", "").size(), env.size() - 1);
}

}  // namespace
}  // namespace kiln::instance
