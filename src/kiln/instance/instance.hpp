#pragma once

// Instances: ephemeral machines made from an image. Each is a folder under <root>/instances/<id>
// holding its writable layer and its record; its processes run in a bubblewrap sandbox over an
// overlay root that exists only in a private mount namespace, so nothing is ever mounted on the
// host and nothing stays mounted when the instance's processes end, even if kiln was killed
// (docs/formats/instance.md).

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/instance/sandbox.hpp"
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
  bool stopped = true;        // false while it should be running
  pid_t monitor_pid = 0;      // bwrap outside the sandbox
  pid_t init_pid = 0;         // the sandbox's first process, host pid
  unsigned long long init_start = 0;

  State state() const;  // derived from the record and the live processes
};

Json to_json(const InstanceRecord& record);
Result<InstanceRecord> record_from_json(const Json& json);

struct LaunchRequest {
  std::string image;
  std::string image_digest;
  std::vector<std::filesystem::path> lower;  // unpacked layers, top-most first
  Network network = Network::kHost;
  std::vector<BindMount> binds = {};
  std::string instance_type = {};  // resource limits by EC2 name; "" for none
  // When set, the instance's own exchange folder (<folder>/exchange, empty at launch, removed
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

  std::filesystem::path folder(const std::string& id) const { return dir_ / id; }

 private:
  Status save(const InstanceRecord& record) const;
  Result<InstanceRecord> running(const std::string& id) const;
  Result<os::ProcessSpec> enter_spec(const std::string& id,
                                     const std::vector<std::string>& command,
                                     const std::string& term) const;
  Status kill_processes(InstanceRecord& record);

  std::filesystem::path dir_;
  Helpers helpers_;
};

// The privileged half of starting an instance, run as `kiln __instance-run <folder>` in a process
// of its own: enter a private mount namespace, mount the overlay, and become bwrap (which
// reports the sandbox's pids on file descriptor 3). Returns only on failure.
Status run_sandbox(const std::filesystem::path& folder, const Helpers& helpers);

// The privileged half of exec, run as `kiln __instance-enter <folder> <pid> host|none
// <command...>`: join the instance's cgroups and namespaces, drop the capabilities that reach the
// host, run the command; returns its exit status.
Result<int> enter_instance(const std::filesystem::path& folder,
                           pid_t pid,
                           Network network,
                           const std::vector<std::string>& command);

// Finds kiln's helper programs: $KILN_LIBEXEC_DIR, then <dir of this program>/../libexec/kiln,
// then `build_dir` (the build tree).
Helpers find_helpers(const std::filesystem::path& build_dir);

}  // namespace kiln::instance
