#pragma once

// Instances: ephemeral machines made from an image. Each is a folder under <root>/instances/<id>
// holding its record and its disk: a sparse file of a fixed size with an ext4 filesystem, mounted
// on the host at <id>/disk for the instance's life, which holds the writable layer (disk/upper),
// so a build can fill its own disk but not the host's. Its processes run in a bubblewrap sandbox
// over an overlay root that exists only in a private mount namespace (docs/formats/instance.md).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/instance/disk_size.hpp"
#include "kiln/instance/sandbox.hpp"
#include "kiln/os/disk.hpp"
#include "kiln/os/process.hpp"

namespace kiln::instance {

enum class State {
  kRunning,
  kStopped,  // stopped on purpose: the writable layer is kept
  kDead,     // recorded as running, but its processes are gone
};
std::string_view state_name(State state);

struct InstanceRecord {
  std::string id;            // "i-" and 17 hex digits, as EC2 names instances
  std::string image;         // what it was launched from (an ARN or name/version)
  std::string image_digest;  // the image's manifest digest
  SandboxSpec sandbox;
  std::string created;        // RFC 3339
  std::string instance_type;  // "" (no limits) or an EC2 name (instance_type.hpp)
  uint64_t disk_size = 0;     // bytes of its disk; 0: an instance from before disks (no limit)
  bool stopped = true;        // false while it should be running
  pid_t monitor_pid = 0;      // bwrap outside the sandbox
  pid_t init_pid = 0;         // the sandbox's first process, host pid
  unsigned long long init_start = 0;
  // An instance tied to its owner (LaunchRequest::die_with_owner) dies with the process that
  // last started it: its sandbox gets SIGKILL when that process ends, and kiln's recovery
  // terminates it once that process is gone (build/recovery.hpp).
  bool die_with_owner = false;
  std::string owner_tag;  // what it belongs to: a build's image ARN, or ""
  pid_t owner_pid = 0;
  unsigned long long owner_start = 0;

  State state() const;  // derived from the record and the live processes
  // Tied to an owner that no longer runs (the same pid reused by another process is told apart
  // by its start time).
  bool owner_gone() const;
};

Json to_json(const InstanceRecord& record);
Result<InstanceRecord> record_from_json(const Json& json);

struct LaunchRequest {
  std::string image;
  std::string image_digest;
  std::vector<std::filesystem::path> lower;  // unpacked layers, top-most first
  Network network = Network::kPrivate;
  std::vector<BindMount> binds = {};
  std::string instance_type = {};  // resource limits by EC2 name; "" for none
  uint64_t disk_size = 0;          // bytes of the instance's disk; 0 for kDefaultDiskSize
  // Ties the instance to this process (InstanceRecord::die_with_owner): for builds and
  // `kiln component run`, never for `kiln instance launch`, whose instances outlive it.
  bool die_with_owner = false;
  std::string owner_tag = {};
  // When set, the instance's own exchange folder (<folder>/disk/exchange, empty at launch, removed
  // with the instance) is bound writable at this path: the one place an instance writes that the
  // host reads back, only with beneath.hpp's link-refusing calls (docs/security.md).
  std::string exchange_target = {};
};

// Where kiln's helper programs are: the kiln binary itself (re-executed for the privileged part
// of a start) and the static init that keeps a sandbox alive.
struct Helpers {
  std::filesystem::path kiln;
  std::filesystem::path sandbox_init;
  std::filesystem::path bwrap = "bwrap";
};

class Instances {
 public:
  Instances(std::filesystem::path root, Helpers helpers)
      : dir_(std::move(root) / "instances"), helpers_(std::move(helpers)) {}

  Result<InstanceRecord> launch(const LaunchRequest& request);
  Result<InstanceRecord> get(const std::string& id) const;
  Result<std::vector<InstanceRecord>> list() const;

  // Runs `command` inside a running instance and returns its exit code. The command shares this
  // process's stdin, stdout and stderr (a terminal stays usable); `term` sets its TERM.
  Result<int> exec(const std::string& id,
                   const std::vector<std::string>& command,
                   const std::string& term = "");

  // Runs `command` inside a running instance with its output captured (given to `on_output` as
  // it arrives, and returned), stdin from /dev/null; past the deadline or once *cancel is true
  // the command's processes are killed. Returns the result (exit code, or the signal).
  Result<os::ProcessResult> run(const std::string& id,
                                const std::vector<std::string>& command,
                                const os::Deadline& deadline = std::nullopt,
                                const std::atomic<bool>* cancel = nullptr,
                                const os::OutputFn& on_output = {});

  Status start(const std::string& id);
  // Kills every process of the instance; the writable layer stays.
  Status stop(const std::string& id);
  // stop, then start: the writable layer is kept, every process starts anew.
  Status reboot(const std::string& id);
  // Kills every process and deletes the instance with its writable layer.
  Status terminate(const std::string& id);
  // Unties an instance from its owner so that it outlives it (a failed build's instance kept for
  // debugging): a running one is started again, untied, with its writable layer kept.
  Status release(const std::string& id);

  std::filesystem::path folder(const std::string& id) const { return dir_ / id; }
  // The instance's exchange folder (LaunchRequest::exchange_target), on its disk: written by the
  // instance, read by the host only with beneath.hpp's link-refusing calls.
  std::filesystem::path exchange(const std::string& id) const {
    return dir_ / id / "disk" / "exchange";
  }
  // The instance's writable layer (an overlayfs upper directory), readable from the host while
  // the instance exists.
  Result<std::filesystem::path> upper(const std::string& id) const;
  // How full the instance's disk is (its size as launched, what is free); kNotFound for an
  // instance from before disks.
  Result<os::DiskUsage> disk_usage(const std::string& id) const;

 private:
  Status save(const InstanceRecord& record) const;
  Result<InstanceRecord> running(const std::string& id) const;
  Result<os::ProcessSpec> enter_spec(const std::string& id,
                                     const std::vector<std::string>& command,
                                     const std::string& term) const;
  Status kill_processes(InstanceRecord& record);
  Status mount_disk(const InstanceRecord& record) const;
  // Gives a just started instance with a private network its way out (kiln __instance-net).
  Status connect_network(const InstanceRecord& record) const;

  std::filesystem::path dir_;
  Helpers helpers_;
};

// The privileged half of starting an instance, run as `kiln __instance-run <folder>` in a process
// of its own: enter a private mount namespace, mount the overlay, and become bwrap (which
// reports the sandbox's pids on file descriptor 3). With `owner` (> 0), it first makes sure it
// dies with that process, its parent, and so does everything bwrap starts. Returns only on
// failure.
Status run_sandbox(const std::filesystem::path& folder, const Helpers& helpers, pid_t owner = 0);

// The network half of starting an instance with a private network, run as `kiln __instance-net
// <folder> <pid>`: start pasta (Debian's passt) in the PID namespace of the sandbox whose PID 1
// is `pid`, attached to its network namespace, and wait until it has configured it.
Status connect_network(const std::filesystem::path& folder, pid_t pid);

// The privileged half of exec, run as `kiln __instance-enter <folder> <pid> private|none|host
// <command...>`: join the instance's cgroups and namespaces (its network namespace unless it has
// the host's), drop the capabilities that reach the host, run the command; returns its exit
// status.
Result<int> enter_instance(const std::filesystem::path& folder,
                           pid_t pid,
                           Network network,
                           const std::vector<std::string>& command);

// Finds kiln's helper programs: $KILN_LIBEXEC_DIR, then <dir of this program>/../libexec/kiln,
// then `build_dir` (the build tree).
Helpers find_helpers(const std::filesystem::path& build_dir);

}  // namespace kiln::instance
