// Privileged tests of instances on a real busybox root: namespaces, the overlay, the lifecycle.
// They need root, bubblewrap and busybox, and skip otherwise.

#include "kiln/instance/instance.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/os/process.hpp"

namespace kiln::instance {
namespace {
namespace fs = std::filesystem;

class InstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root";
    }
    for (const char* tool : {"bwrap", "busybox"}) {
      if (!os::find_program(tool)) {
        GTEST_SKIP() << tool << " is not installed";
      }
    }
    Result<TempDir> dir = TempDir::create("kiln-instance-test-");
    ASSERT_TRUE(dir.ok());
    tmp_.emplace(std::move(*dir));
    make_busybox_layer(root() / "layers" / "base");
    helpers_.kiln = KILN_TEST_KILN;
    helpers_.sandbox_init = KILN_TEST_SANDBOX_INIT;
  }

  void TearDown() override {
    if (tmp_) {
      Instances instances(root(), helpers_);
      if (auto all = instances.list(); all) {
        for (const auto& r : *all) {
          (void)instances.terminate(r.id);
        }
      }
    }
  }

  fs::path root() const { return tmp_->path(); }

  static void make_busybox_layer(const fs::path& dir) {
    for (const char* sub : {"bin", "etc", "tmp", "proc", "dev", "root", "sys"}) {
      fs::create_directories(dir / sub);
    }
    fs::copy_file(*os::find_program("busybox"), dir / "bin" / "busybox");
    os::ProcessSpec list{{"busybox", "--list"}};
    Result<os::ProcessResult> applets = os::run_process(list);
    ASSERT_TRUE(applets.ok());
    for (const std::string& name : split(applets->stdout_text, '\n')) {
      if (!name.empty() && name != "busybox") {
        fs::create_symlink("busybox", dir / "bin" / name);
      }
    }
    ASSERT_TRUE(write_file(dir / "etc" / "motd", "from the image\n").ok());
  }

  InstanceRecord launch(Network network = Network::kHost, const std::string& type = "") {
    Instances instances(root(), helpers_);
    LaunchRequest request{"busybox/1.0.0/1", "sha256:test", {root() / "layers" / "base"}, network};
    request.instance_type = type;
    Result<InstanceRecord> r = instances.launch(request);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : InstanceRecord{};
  }

  int exec(const std::string& id, const std::string& script) {
    Instances instances(root(), helpers_);
    Result<int> code = instances.exec(id, {"/bin/sh", "-c", script});
    EXPECT_TRUE(code.ok()) << (code.ok() ? "" : code.error().message);
    return code.ok() ? *code : -1;
  }

  std::string upper_file(const std::string& id, const std::string& path) {
    Result<std::string> text = read_file(root() / "instances" / id / "disk" / "upper" / path);
    return text.ok() ? *text : "<missing>";
  }

  static bool host_has_mount_under(const fs::path& dir) {
    Result<std::string> mounts = read_file("/proc/self/mountinfo");
    return mounts.ok() && mounts->find(dir.string()) != std::string::npos;
  }

  std::optional<TempDir> tmp_;
  Helpers helpers_;
};

TEST_F(InstanceTest, ExecRunsInsideWithTheExitCodePassedThrough) {
  InstanceRecord r = launch();
  ASSERT_FALSE(r.id.empty());
  EXPECT_EQ(r.state(), State::kRunning);
  EXPECT_EQ(exec(r.id, "cat /etc/motd > /tmp/seen; hostname > /tmp/host; exit 3"), 3);
  EXPECT_EQ(upper_file(r.id, "tmp/seen"), "from the image\n");
  EXPECT_EQ(upper_file(r.id, "tmp/host"), r.id + "\n");
}

TEST_F(InstanceTest, SeesOnlyItsOwnProcessesAndNotTheHostsFiles) {
  InstanceRecord r = launch();
  EXPECT_EQ(exec(r.id,
                 "ls /proc | grep -c '^[0-9]' > /tmp/procs; test -e /work && echo host "
                 "> /tmp/leak; ls / > /tmp/root"),
            0);
  int procs = std::stoi(upper_file(r.id, "tmp/procs"));
  EXPECT_LE(procs, 6) << "the PID namespace shows host processes";
  EXPECT_EQ(upper_file(r.id, "tmp/leak"), "<missing>");
}

TEST_F(InstanceTest, WritesAndDeletionsLandInTheWritableLayerOnly) {
  InstanceRecord r = launch();
  EXPECT_EQ(exec(r.id, "echo new > /root/new && rm /etc/motd"), 0);
  EXPECT_EQ(upper_file(r.id, "root/new"), "new\n");
  struct stat st {};
  ASSERT_EQ(::lstat((root() / "instances" / r.id / "disk/upper/etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "a deletion is an overlay whiteout";
  EXPECT_TRUE(fs::exists(root() / "layers/base/etc/motd")) << "the image is read-only";
}

TEST_F(InstanceTest, RebootKillsEveryProcessAndKeepsTheWritableLayer) {
  InstanceRecord r = launch();
  EXPECT_EQ(exec(r.id, "echo kept > /root/state; (sleep 1000 &) ; true"), 0);
  Instances instances(root(), helpers_);
  ASSERT_TRUE(instances.reboot(r.id).ok());
  Result<InstanceRecord> after = instances.get(r.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state(), State::kRunning);
  EXPECT_NE(after->init_pid, r.init_pid);
  EXPECT_EQ(::kill(r.init_pid, 0), -1) << "the old processes are gone";
  EXPECT_EQ(exec(r.id, "cat /root/state > /tmp/again; pgrep sleep > /tmp/sleepers; true"), 0);
  EXPECT_EQ(upper_file(r.id, "tmp/again"), "kept\n");
  EXPECT_EQ(upper_file(r.id, "tmp/sleepers"), "");
}

TEST_F(InstanceTest, StopKeepsTheLayerAndRefusesExecUntilStarted) {
  InstanceRecord r = launch();
  Instances instances(root(), helpers_);
  ASSERT_TRUE(instances.stop(r.id).ok());
  EXPECT_EQ(instances.get(r.id)->state(), State::kStopped);
  Result<int> refused = instances.exec(r.id, {"true"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(instances.start(r.id).ok());
  EXPECT_EQ(exec(r.id, "true"), 0);
}

TEST_F(InstanceTest, TerminateLeavesNoMountNoProcessNoFolder) {
  InstanceRecord r = launch();
  fs::path folder = root() / "instances" / r.id;
  Instances instances(root(), helpers_);
  ASSERT_TRUE(instances.terminate(r.id).ok());
  EXPECT_FALSE(fs::exists(folder));
  EXPECT_FALSE(host_has_mount_under(root()));
  EXPECT_EQ(::kill(r.init_pid, 0), -1);
  EXPECT_EQ(::kill(r.monitor_pid, 0), -1);
  EXPECT_EQ(instances.get(r.id).error().code, ErrorCode::kNotFound);
}

TEST_F(InstanceTest, OnlyTheInstancesDiskIsMountedOnTheHost) {
  InstanceRecord r = launch();
  // The overlay lives in the instance's private namespace; the host sees only the disk that holds
  // the writable layer, at <instance>/disk.
  Result<std::string> mounts = read_file("/proc/self/mountinfo");
  ASSERT_TRUE(mounts.ok());
  std::vector<std::string> under_root;
  for (const std::string& line : split(*mounts, '\n')) {
    if (line.find(root().string()) != std::string::npos) {
      under_root.push_back(line);
    }
  }
  ASSERT_EQ(under_root.size(), 1u) << mounts.value();
  EXPECT_NE(under_root[0].find((root() / "instances" / r.id / "disk").string() + " "),
            std::string::npos)
      << under_root[0];
  EXPECT_EQ(under_root[0].find("overlay"), std::string::npos) << under_root[0];
}

TEST_F(InstanceTest, AnInstanceWhoseProcessesDiedIsReportedDead) {
  InstanceRecord r = launch();
  ::kill(r.init_pid, SIGKILL);
  for (int i = 0; i < 1000 && ::kill(r.init_pid, 0) == 0; ++i) {
    usleep(1000);
  }
  Instances instances(root(), helpers_);
  EXPECT_EQ(instances.get(r.id)->state(), State::kDead);
  ASSERT_TRUE(instances.start(r.id).ok()) << "a dead instance can be started again";
}

TEST_F(InstanceTest, NetworkNoneHasOnlyLoopback) {
  InstanceRecord r = launch(Network::kNone);
  EXPECT_EQ(exec(r.id,
                 "ls /sys/class/net > /tmp/nets 2>/dev/null || cat /proc/net/dev > "
                 "/tmp/nets"),
            0);
  std::string nets = upper_file(r.id, "tmp/nets");
  EXPECT_EQ(nets.find("eth"), std::string::npos) << nets;
}

TEST_F(InstanceTest, AnInstanceTypeLimitsMemoryAndItsGroupsGoWithTheInstance) {
  InstanceRecord r = launch(Network::kHost, "t3.nano");
  ASSERT_FALSE(r.id.empty());
  std::optional<fs::path> memory;
  for (const fs::path& group : r.sandbox.cgroups) {
    if (fs::exists(group / "memory.limit_in_bytes") || fs::exists(group / "memory.max")) {
      memory = group;
    }
  }
  if (!memory) {
    GTEST_SKIP() << "this host has no memory cgroup controller";
  }
  std::string limit =
      read_file(fs::exists(*memory / "memory.max") ? *memory / "memory.max"
                                                   : *memory / "memory.limit_in_bytes")
          .value_or("");
  EXPECT_EQ(limit, "536870912\n");
  // 700 MB through tail (which keeps a whole line: /dev/zero has none) exceeds t3.nano's 512 MiB.
  EXPECT_EQ(exec(r.id, "head -c 700000000 /dev/zero | tail > /dev/null; echo $? > /tmp/rc"), 0);
  EXPECT_EQ(upper_file(r.id, "tmp/rc"), "137\n") << "the allocation was not stopped";
  Instances instances(root(), helpers_);
  ASSERT_TRUE(instances.terminate(r.id).ok());
  for (const fs::path& group : r.sandbox.cgroups) {
    EXPECT_FALSE(fs::exists(group)) << group;
  }
}

TEST_F(InstanceTest, AnUnknownInstanceTypeIsRefused) {
  Instances instances(root(), helpers_);
  LaunchRequest request{"busybox", "sha256:test", {root() / "layers" / "base"}};
  request.instance_type = "x9.enormous";
  Result<InstanceRecord> r = instances.launch(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("t3.medium"), std::string::npos);
}

TEST_F(InstanceTest, CommandsCannotReachTheHostsNetworkOrKernel) {
  InstanceRecord r = launch();
  // Capabilities that reach the host are gone: no address on the shared loopback, no kernel
  // tunables, no device nodes; the ones a build needs (chown) stay.
  EXPECT_NE(exec(r.id, "ip addr add 127.77.0.9/32 dev lo"), 0);
  EXPECT_NE(exec(r.id, "echo 1 > /proc/sys/vm/drop_caches"), 0);
  EXPECT_NE(exec(r.id, "mknod /root/disk b 8 0"), 0);
  EXPECT_EQ(exec(r.id, "touch /root/f && chown 123:45 /root/f"), 0);
  EXPECT_EQ(exec(r.id, "grep CapBnd /proc/self/status > /tmp/caps"), 0);
  EXPECT_EQ(upper_file(r.id, "tmp/caps"), "CapBnd:\t00000000a00405fb\n");
}

TEST_F(InstanceTest, InstancesOutliveTheirRecordsProcessAndAreListed) {
  InstanceRecord a = launch();
  InstanceRecord b = launch();
  Instances instances(root(), helpers_);
  Result<std::vector<InstanceRecord>> all = instances.list();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

}  // namespace
}  // namespace kiln::instance
