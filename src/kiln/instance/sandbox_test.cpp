#include "kiln/instance/sandbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "kiln/instance/instance.hpp"

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

TEST(SandboxTest, TheDefaultNetworkIsPrivateWithANamespaceOfItsOwn) {
  SandboxSpec s;
  EXPECT_EQ(s.network, Network::kPrivate);
  s = spec();
  s.network = Network::kPrivate;
  std::vector<std::string> args = bwrap_arguments(s, "/init", 3);
  EXPECT_EQ(std::count(args.begin(), args.end(), "--unshare-net"), 1);
  EXPECT_EQ(LaunchRequest{}.network, Network::kPrivate);
}

TEST(SandboxTest, TheSandboxesOwnProcessesHaveNoCapabilities) {
  for (Network n : {Network::kPrivate, Network::kNone, Network::kHost}) {
    SandboxSpec s = spec();
    s.network = n;
    std::vector<std::string> args = bwrap_arguments(s, "/init", 3);
    EXPECT_TRUE(contains_sequence(args, {"--cap-drop", "ALL"})) << network_name(n);
    EXPECT_EQ(std::count(args.begin(), args.end(), "--cap-add"), 0) << network_name(n);
  }
}

TEST(SandboxTest, NetworkNames) {
  for (Network n : {Network::kPrivate, Network::kNone, Network::kHost}) {
    EXPECT_EQ(network_from_name(network_name(n)), n);
  }
  EXPECT_EQ(network_name(Network::kPrivate), "private");
  EXPECT_EQ(network_name(Network::kHost), "host");
  EXPECT_FALSE(network_from_name("Host"));
  EXPECT_FALSE(network_from_name(""));
  EXPECT_FALSE(network_from_name("bridge"));
}

TEST(SandboxTest, AnUnknownNetworkInARecordIsCorruptionNotTheHosts) {
  Json j = to_json(spec());
  j["network"] = "bridge";
  Result<SandboxSpec> back = sandbox_from_json(j);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ErrorCode::kCorruption);
  // Records written before private networks existed keep the network they were made with.
  j["network"] = "host";
  ASSERT_TRUE(sandbox_from_json(j).ok());
  EXPECT_EQ(sandbox_from_json(j)->network, Network::kHost);
}

TEST(SandboxTest, PastaForwardsNothingAndDoesNotMapTheGatewayToTheHost) {
  std::vector<std::string> args = pasta_arguments("/proc/42/ns/net");
  EXPECT_TRUE(contains_sequence(args, {"--netns", "/proc/42/ns/net"}));
  EXPECT_EQ(args.back(), "/proc/42/ns/net");
  EXPECT_TRUE(contains_sequence(args, {"--config-net"}));
  EXPECT_TRUE(contains_sequence(args, {"--no-map-gw"}));
  // Every forwarding spec is "none": pasta's default ("auto") would forward the host's bound
  // ports into the instance (-t/-u) and the instance's to the host's loopback (-T/-U).
  for (const char* flag : {"--tcp-ports", "--udp-ports", "--tcp-ns", "--udp-ns"}) {
    EXPECT_TRUE(contains_sequence(args, {flag, "none"})) << flag;
  }
  for (const char* flag : {"-t", "-u", "-T", "-U", "--map-gw", "--pcap", "-p"}) {
    EXPECT_EQ(std::count(args.begin(), args.end(), flag), 0) << flag;
  }
  EXPECT_EQ(std::count(args.begin(), args.end(), "auto"), 0);
  EXPECT_TRUE(contains_sequence(args, {"--dns-forward", std::string(kDnsAddress)}));
  EXPECT_NE(private_resolv_conf().find("nameserver " + std::string(kDnsAddress) + "\n"),
            std::string::npos);
}

TEST(SandboxTest, DevIsReadOnlyAndShmHasASize) {
  SandboxSpec s = spec();
  s.shm_size = 3 << 20;
  std::vector<std::string> args = bwrap_arguments(s, "/proc/self/fd/4", 3);
  EXPECT_TRUE(contains_sequence(args,
                                {"--dev",
                                 "/dev",
                                 "--perms",
                                 "1777",
                                 "--size",
                                 "3145728",
                                 "--tmpfs",
                                 "/dev/shm",
                                 "--remount-ro",
                                 "/dev"}));
  EXPECT_EQ(spec().shm_size, kDefaultShmSize);
}

TEST(SandboxTest, ShmIsHalfTheMemoryOfAnInstanceType) {
  EXPECT_EQ(shm_size_for(std::nullopt), uint64_t{64} << 20);
  EXPECT_EQ(shm_size_for(uint64_t{512} << 20), uint64_t{256} << 20);
  EXPECT_EQ(shm_size_for(uint64_t{1} << 20), uint64_t{1} << 20);  // never below 1 MiB
}

TEST(SandboxTest, RecordsWithoutAShmSizeGetTheDefault) {
  SandboxSpec s = spec();
  s.shm_size = 5 << 20;
  Json j = to_json(s);
  EXPECT_EQ(j.at("shmSize"), 5 << 20);
  j.erase("shmSize");
  Result<SandboxSpec> back = sandbox_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->shm_size, kDefaultShmSize);
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
  // Nothing of this process's environment: kiln's secrets stay out of instances.
  ASSERT_EQ(::setenv("KILN_SECRET_ACCESS_KEY", "s3cr3t", 1), 0);
  for (const std::string& e : instance_environment("i-1", "xterm")) {
    EXPECT_EQ(e.find("KILN"), std::string::npos) << e;
    EXPECT_EQ(e.find("s3cr3t"), std::string::npos) << e;
  }
  ::unsetenv("KILN_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace kiln::instance
