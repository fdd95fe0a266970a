#include "kiln/instance/instance.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "kiln/base/file.hpp"
#include "kiln/base/log.hpp"
#include "kiln/base/scope_exit.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"
#include "kiln/instance/instance_type.hpp"
#include "kiln/os/cgroup.hpp"
#include "kiln/os/namespace.hpp"
#include "kiln/os/process.hpp"

namespace kiln::instance {
namespace fs = std::filesystem;

namespace {

constexpr int kInfoFd = 3;   // bwrap writes the sandbox's pids here
constexpr int kInitFd = 4;   // the static init, executed from /proc/self/fd/4 inside
constexpr int kReadyFd = 5;  // the init writes a byte here once the sandbox is complete
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(30);

std::string new_instance_id() {
  std::string uuid = make_uuid_v4();
  std::string hex;
  for (char c : uuid) {
    if (c != '-') {
      hex.push_back(c);
    }
  }
  return "i-" + hex.substr(0, 17);
}

bool valid_id(const std::string& id) {
  return id.size() == 19 && starts_with(id, "i-") &&
         id.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

// Reads bwrap's --info-fd JSON until the pipe closes or the time is up.
Result<Json> read_info(int fd) {
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return make_error(
          ErrorCode::kTimeout, "the sandbox did not start within {} s", kStartTimeout.count());
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return errno_error(errno, "waiting for the sandbox");
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
    Json info = Json::parse(text, nullptr, false);
    if (!info.is_discarded() && info.contains("child-pid")) {
      return info;
    }
  }
  return make_error(ErrorCode::kUnavailable, "the sandbox exited before it started");
}

// Waits for the init's byte on the ready pipe: bwrap reports its pids before the sandbox's root
// is in place, and a command entering before then would not find the image's files.
Status wait_ready(int fd) {
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(kStartTimeout.count() * 1000));
  char byte = 0;
  if (ready <= 0 || ::read(fd, &byte, 1) != 1) {
    return make_error(ErrorCode::kUnavailable, "the sandbox's init did not start");
  }
  return ok_status();
}

// The environment of the helper processes kiln runs itself (__instance-run, __instance-net):
// only the program search path, so nothing of kiln's own environment reaches an instance.
std::vector<std::string> helper_environment() {
  const char* path = std::getenv("PATH");
  return {std::string("PATH=") +
          (path != nullptr && *path != '\0'
               ? path
               : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")};
}

bool wait_gone(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    // Reap it if it is our child (kiln started it in this process); harmless otherwise.
    ::waitpid(pid, nullptr, WNOHANG);
    if (::kill(pid, 0) != 0 && errno == ESRCH) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

std::string_view state_name(State state) {
  switch (state) {
    case State::kRunning:
      return "running";
    case State::kStopped:
      return "stopped";
    case State::kDead:
      return "dead";
  }
  return "dead";
}

State InstanceRecord::state() const {
  if (stopped) {
    return State::kStopped;
  }
  return os::process_alive(init_pid, init_start) ? State::kRunning : State::kDead;
}

bool InstanceRecord::owner_gone() const {
  return die_with_owner && !os::process_alive(owner_pid, owner_start);
}

Json to_json(const InstanceRecord& r) {
  Json j{{"id", r.id},
         {"image", r.image},
         {"imageDigest", r.image_digest},
         {"created", r.created},
         {"instanceType", r.instance_type},
         {"diskSize", r.disk_size},
         {"stopped", r.stopped},
         {"monitorPid", r.monitor_pid},
         {"initPid", r.init_pid},
         {"initStart", r.init_start},
         {"sandbox", to_json(r.sandbox)}};
  if (r.die_with_owner) {
    j["owner"] = Json{{"tag", r.owner_tag}, {"pid", r.owner_pid}, {"startTime", r.owner_start}};
  }
  return j;
}

Result<InstanceRecord> record_from_json(const Json& j) {
  InstanceRecord r;
  try {
    r.id = j.at("id").get<std::string>();
    r.image = j.at("image").get<std::string>();
    r.image_digest = j.at("imageDigest").get<std::string>();
    r.created = j.at("created").get<std::string>();
    r.instance_type = j.value("instanceType", "");
    r.disk_size = j.value("diskSize", uint64_t{0});
    r.stopped = j.at("stopped").get<bool>();
    r.monitor_pid = j.at("monitorPid").get<pid_t>();
    r.init_pid = j.at("initPid").get<pid_t>();
    r.init_start = j.at("initStart").get<unsigned long long>();
    if (j.contains("owner")) {
      const Json& owner = j.at("owner");
      r.die_with_owner = true;
      r.owner_tag = owner.at("tag").get<std::string>();
      r.owner_pid = owner.at("pid").get<pid_t>();
      r.owner_start = owner.at("startTime").get<unsigned long long>();
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorruption, "instance record: {}", e.what());
  }
  // A record saved at the start of launch, before its sandbox was put together, has no layers:
  // it still reads, so that recovery can terminate what a killed launch left.
  const Json sandbox = j.value("sandbox", Json::object());
  if (sandbox.value("lower", Json::array()).empty()) {
    return r;
  }
  r.sandbox = KILN_TRY(sandbox_from_json(sandbox));
  return r;
}

Status Instances::save(const InstanceRecord& record) const {
  return replace_file(dir_ / record.id / "instance.json", to_json(record).dump(2) + "\n", 0600);
}

Result<InstanceRecord> Instances::get(const std::string& id) const {
  if (!valid_id(id)) {
    return make_error(ErrorCode::kInvalidArgument, "'{}' is not an instance id (i-...)", id);
  }
  Result<std::string> text = read_file(dir_ / id / "instance.json");
  if (!text) {
    return make_error(ErrorCode::kNotFound, "no instance {}", id);
  }
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::kCorruption,
                      "{}: unreadable instance record",
                      (dir_ / id / "instance.json").string());
  }
  return record_from_json(j);
}

Result<std::vector<InstanceRecord>> Instances::list() const {
  std::vector<InstanceRecord> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    return out;
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
    Result<InstanceRecord> r = get(entry.path().filename().string());
    if (r) {
      out.push_back(std::move(*r));
    }
  }
  std::sort(out.begin(), out.end(), [](const InstanceRecord& a, const InstanceRecord& b) {
    return a.created < b.created;
  });
  return out;
}

Result<InstanceRecord> Instances::launch(const LaunchRequest& request) {
  if (::geteuid() != 0) {
    return make_error(ErrorCode::kPermissionDenied,
                      "instances need root (mount namespaces, overlayfs, cgroups)");
  }
  if (request.lower.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "an instance needs an image with layers");
  }
  os::ResourceLimits limits = KILN_TRY(limits_for(request.instance_type));
  uint64_t disk_size = request.disk_size == 0 ? kDefaultDiskSize : request.disk_size;
  if (disk_size < kMinDiskSize || disk_size > kMaxDiskSize) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a disk of {} bytes: must be from 16 MiB to 16000 GiB",
                      disk_size);
  }
  InstanceRecord record;
  record.id = new_instance_id();
  record.instance_type = request.instance_type;
  record.disk_size = disk_size;
  record.image = request.image;
  record.image_digest = request.image_digest;
  record.created = format_rfc3339_utc(std::chrono::system_clock::now());
  record.die_with_owner = request.die_with_owner;
  record.owner_tag = request.owner_tag;
  record.owner_pid = ::getpid();
  record.owner_start = os::process_start_time(record.owner_pid).value_or(0);
  fs::path folder = dir_ / record.id;
  std::error_code ec;
  for (const char* sub : {"disk", "merged"}) {
    fs::create_directories(folder / sub, ec);
    if (ec) {
      return make_error(ErrorCode::kIo, "creating {}: {}", (folder / sub).string(), ec.message());
    }
  }
  fs::permissions(folder, fs::perms::owner_all, ec);
  // Recorded at once: an owner killed from here on leaves a folder recovery can find.
  KILN_TRY(save(record));
  // Gone again if anything below fails: the disk unmounted first, so that removing the folder
  // does not walk into it.
  ScopeExit cleanup([&] {
    (void)os::unmount(folder / "disk");
    std::error_code ignored;
    fs::remove_all(folder, ignored);
  });
  // The writable layer and overlayfs's work folder live on the instance's own disk (both must be
  // on one filesystem): what the instance writes counts against its size, not the host's.
  KILN_TRY(os::make_disk_image(folder / "disk.img", disk_size));
  if (Result<os::DiskUsage> host = os::disk_usage(dir_); host && host->available < disk_size) {
    KILN_LOG(kWarning,
             "instance {}: its disk of {} is larger than the {} free on {}: the host's disk can "
             "fill before the instance's does",
             record.id,
             os::format_bytes(disk_size),
             os::format_bytes(host->available),
             dir_.string());
  }
  KILN_TRY(os::mount_disk_image(folder / "disk.img", folder / "disk"));
  for (const char* sub : {"upper", "work"}) {
    fs::create_directory(folder / "disk" / sub, ec);
    if (ec) {
      return make_error(
          ErrorCode::kIo, "creating {}: {}", (folder / "disk" / sub).string(), ec.message());
    }
  }
  fs::permissions(folder / "disk", fs::perms::owner_all, ec);
  // The exchange folder is on the instance's disk too: what the instance writes there counts
  // against its size.
  std::vector<BindMount> binds = request.binds;
  if (!request.exchange_target.empty()) {
    fs::create_directory(exchange(record.id), ec);
    if (ec) {
      return make_error(
          ErrorCode::kIo, "creating {}: {}", exchange(record.id).string(), ec.message());
    }
    binds.push_back(BindMount{exchange(record.id), request.exchange_target, false});
  }
  record.sandbox = SandboxSpec{request.lower,
                               folder / "disk" / "upper",
                               folder / "disk" / "work",
                               folder / "merged",
                               record.id,
                               request.network,
                               binds};
  os::CgroupSet cgroups = KILN_TRY(os::create_cgroups(record.id, limits));
  for (const std::string& warning : cgroups.warnings) {
    KILN_LOG(kWarning, "instance {}: {}", record.id, warning);
  }
  record.sandbox.cgroups = cgroups.groups;
  record.sandbox.shm_size = shm_size_for(limits.memory_bytes);
  KILN_TRY(save(record));
  if (Status started = start(record.id); !started) {
    os::remove_cgroups(os::CgroupSet{record.sandbox.cgroups, {}});
    return started.error();
  }
  cleanup.release();
  return get(record.id);
}

// The disk stays mounted from launch to terminate; after the host restarted, the first start
// mounts it again.
Status Instances::mount_disk(const InstanceRecord& record) const {
  if (record.disk_size == 0) {
    return ok_status();  // an instance from before disks: its layer is a plain folder
  }
  fs::path mount_point = dir_ / record.id / "disk";
  if (os::is_mount_point(mount_point)) {
    return ok_status();
  }
  return os::mount_disk_image(dir_ / record.id / "disk.img", mount_point);
}

Result<fs::path> Instances::upper(const std::string& id) const {
  InstanceRecord record = KILN_TRY(get(id));
  KILN_TRY(mount_disk(record));
  return record.sandbox.upper;
}

Result<os::DiskUsage> Instances::disk_usage(const std::string& id) const {
  InstanceRecord record = KILN_TRY(get(id));
  if (record.disk_size == 0 || !os::is_mount_point(dir_ / id / "disk")) {
    return make_error(ErrorCode::kNotFound, "instance {} has no disk mounted", id);
  }
  os::DiskUsage usage = KILN_TRY(os::disk_usage(dir_ / id / "disk"));
  usage.size = record.disk_size;  // the size asked for, not what remains after ext4's metadata
  return usage;
}

Status Instances::start(const std::string& id) {
  if (::geteuid() != 0) {
    return make_error(ErrorCode::kPermissionDenied,
                      "instances need root (mount namespaces, overlayfs, cgroups)");
  }
  InstanceRecord record = KILN_TRY(get(id));
  if (record.state() == State::kRunning) {
    return make_error(ErrorCode::kConflict, "instance {} is already running", id);
  }
  fs::path folder = dir_ / id;
  KILN_TRY(mount_disk(record));
  KILN_TRY(replace_file(folder / "sandbox.json", to_json(record.sandbox).dump(2), 0600));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return errno_error(errno, "creating a pipe");
  }
  UniqueFd info_read(pipe_fds[0]);
  UniqueFd info_write(pipe_fds[1]);
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return errno_error(errno, "creating a pipe");
  }
  UniqueFd ready_read(pipe_fds[0]);
  UniqueFd ready_write(pipe_fds[1]);
  UniqueFd init(::open(helpers_.sandbox_init.c_str(), O_RDONLY | O_CLOEXEC));
  if (!init.valid()) {
    return errno_error(errno, fmt::format("opening {}", helpers_.sandbox_init.string()));
  }
  // The helper starts with an environment of its own, not kiln's (which may hold secrets such
  // as kiln serve's KILN_SECRET_ACCESS_KEY): bwrap, the sandbox's PID 1, is visible inside.
  os::ProcessSpec spec{{helpers_.kiln.string(), "__instance-run", folder.string()},
                       helper_environment()};
  if (record.die_with_owner) {
    // This process owns it now: the helper checks it is our child and dies with us.
    record.owner_pid = ::getpid();
    record.owner_start = os::process_start_time(record.owner_pid).value_or(0);
    KILN_TRY(save(record));
    spec.argv.push_back(std::to_string(record.owner_pid));
  }
  pid_t pid = KILN_TRY(os::spawn_detached(
      spec,
      folder / "sandbox.log",
      {{info_write.get(), kInfoFd}, {init.get(), kInitFd}, {ready_write.get(), kReadyFd}}));
  info_write.reset();
  ready_write.reset();
  Result<Json> info = read_info(info_read.get());
  if (info) {
    if (Status ready = wait_ready(ready_read.get()); !ready) {
      info = ready.error();
    }
  }
  if (!info) {
    Result<std::string> log = read_file(folder / "sandbox.log");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return make_error(info.error().code,
                      "starting instance {}: {}{}",
                      id,
                      info.error().message,
                      log ? ": " + tail_lines(*log, 5) : std::string());
  }
  record.monitor_pid = pid;
  record.init_pid = (*info)["child-pid"].get<pid_t>();
  record.init_start = os::process_start_time(record.init_pid).value_or(0);
  if (record.sandbox.network == Network::kPrivate) {
    // The network's way out, before anything runs in the instance: a pasta process inside the
    // sandbox's PID namespace, so it ends with the instance however the instance ends.
    if (Status connected = connect_network(record); !connected) {
      ::kill(record.init_pid, SIGKILL);
      wait_gone(record.init_pid, kStopTimeout);
      ::waitpid(pid, nullptr, 0);
      return make_error(
          connected.error().code, "starting instance {}: {}", id, connected.error().message);
    }
  }
  record.stopped = false;
  return save(record);
}

Status Instances::connect_network(const InstanceRecord& record) const {
  os::ProcessSpec spec{{helpers_.kiln.string(),
                        "__instance-net",
                        (dir_ / record.id).string(),
                        std::to_string(record.init_pid)},
                       helper_environment()};
  os::ProcessResult result = KILN_TRY(
      os::run_process(spec, std::chrono::steady_clock::now() + kStartTimeout, nullptr, {}));
  if (result.timed_out || result.exit_code != 0) {
    return make_error(ErrorCode::kUnavailable,
                      "connecting its network{}: {}",
                      result.timed_out ? " timed out" : "",
                      tail_lines(result.stderr_text, 5));
  }
  return ok_status();
}

Status Instances::kill_processes(InstanceRecord& record) {
  bool killed = false;
  if (!record.stopped && os::process_alive(record.init_pid, record.init_start)) {
    // The sandbox's first process is PID 1 of its namespace: killing it kills every process in
    // the instance, and bwrap (the monitor) exits, which frees the private mount namespace.
    ::kill(record.init_pid, SIGKILL);
    if (!wait_gone(record.init_pid, kStopTimeout)) {
      return make_error(ErrorCode::kTimeout, "instance {}: processes did not end", record.id);
    }
    killed = true;
  }
  // Only a monitor whose sandbox was just killed is waited for: with a sandbox long gone, its
  // pid may belong to another process now (recovery would wait 30 s for each instance).
  if (killed && record.monitor_pid > 0) {
    wait_gone(record.monitor_pid, kStopTimeout);
  }
  record.stopped = true;
  return ok_status();
}

Status Instances::stop(const std::string& id) {
  InstanceRecord record = KILN_TRY(get(id));
  KILN_TRY(kill_processes(record));
  return save(record);
}

Status Instances::reboot(const std::string& id) {
  KILN_TRY(stop(id));
  return start(id);
}

Status Instances::terminate(const std::string& id) {
  InstanceRecord record = KILN_TRY(get(id));
  KILN_TRY(kill_processes(record));
  os::remove_cgroups(os::CgroupSet{record.sandbox.cgroups, {}});
  // Lazily: the filesystem goes (and its loop device with it) once nothing uses it any more.
  KILN_TRY(os::unmount(dir_ / id / "disk"));
  if (os::is_mount_point(dir_ / id / "disk")) {
    return make_error(ErrorCode::kIo, "instance {}: its disk is still mounted", id);
  }
  std::error_code ec;
  fs::remove_all(dir_ / id, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "removing instance {}: {}", id, ec.message());
  }
  return ok_status();
}

Status Instances::release(const std::string& id) {
  InstanceRecord record = KILN_TRY(get(id));
  if (!record.die_with_owner) {
    return ok_status();
  }
  bool was_running = record.state() == State::kRunning;
  KILN_TRY(kill_processes(record));
  record.die_with_owner = false;
  record.owner_tag.clear();
  record.owner_pid = 0;
  record.owner_start = 0;
  KILN_TRY(save(record));
  return was_running ? start(id) : ok_status();
}

Result<InstanceRecord> Instances::running(const std::string& id) const {
  InstanceRecord record = KILN_TRY(get(id));
  State state = record.state();
  if (state != State::kRunning) {
    return make_error(ErrorCode::kConflict,
                      "instance {} is {}{}",
                      id,
                      state_name(state),
                      state == State::kStopped ? ": start it first" : "");
  }
  return record;
}

Result<os::ProcessSpec> Instances::enter_spec(const std::string& id,
                                              const std::vector<std::string>& command,
                                              const std::string& term) const {
  InstanceRecord record = KILN_TRY(running(id));
  // A kiln helper joins the instance's cgroups and namespaces and drops the capabilities that
  // reach the host before it runs the command (os::run_in_namespaces).
  std::vector<std::string> argv{helpers_.kiln.string(),
                                "__instance-enter",
                                (dir_ / id).string(),
                                std::to_string(record.init_pid),
                                std::string(network_name(record.sandbox.network))};
  argv.insert(argv.end(), command.begin(), command.end());
  return os::ProcessSpec{argv, instance_environment(record.sandbox.hostname, term)};
}

Result<int> Instances::exec(const std::string& id,
                            const std::vector<std::string>& command,
                            const std::string& term) {
  os::ProcessSpec spec = KILN_TRY(enter_spec(id, command, term));
  return os::run_attached(spec);
}

Result<os::ProcessResult> Instances::run(const std::string& id,
                                         const std::vector<std::string>& command,
                                         const os::Deadline& deadline,
                                         const std::atomic<bool>* cancel,
                                         const os::OutputFn& on_output) {
  os::ProcessSpec spec = KILN_TRY(enter_spec(id, command, ""));
  return os::run_process(spec, deadline, cancel, on_output);
}

namespace {

// The sandbox description Instances::start wrote for the helper processes.
Result<SandboxSpec> load_sandbox(const fs::path& folder) {
  std::string text = KILN_TRY(read_file(folder / "sandbox.json"));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::kCorruption, "{}: unreadable", (folder / "sandbox.json").string());
  }
  return sandbox_from_json(j);
}

}  // namespace

Status run_sandbox(const fs::path& folder, const Helpers& helpers, pid_t owner) {
  if (owner > 0) {
    KILN_TRY(os::die_with_parent(owner));
  }
  SandboxSpec spec = KILN_TRY(load_sandbox(folder));
  // Join the limits first: bwrap and everything in the sandbox inherit them.
  KILN_TRY(os::join_cgroups(os::CgroupSet{spec.cgroups, {}}));
  KILN_TRY(os::enter_private_mount_namespace());
  // The namespace copied every other instance's disk from the host: holding them would keep
  // their filesystems (and loop devices) alive after they are terminated.
  KILN_TRY(os::detach_mounts_below(folder.parent_path(), folder));
  KILN_TRY(os::mount_overlay(os::OverlayMount{spec.lower, spec.upper, spec.work, spec.merged}));
  if (spec.network == Network::kPrivate &&
      os::regular_file_in_root(spec.merged, "etc/resolv.conf")) {
    // The image's resolver is out of reach from a private network (it may be the host's
    // loopback, or a server pasta does not forward to): the instance asks the address pasta
    // forwards to the host's resolver. Bound over the image's file, read-only, so the image keeps
    // its own file and nothing the instance writes lands on the host.
    fs::path resolv = folder / "resolv.conf";
    KILN_TRY(replace_file(resolv, private_resolv_conf(), 0644));
    spec.binds.push_back(BindMount{resolv, "/etc/resolv.conf", true});
  }
  std::optional<fs::path> bwrap = os::find_program(helpers.bwrap.string());
  if (!bwrap) {
    return make_error(ErrorCode::kNotFound,
                      "bwrap not found: install the Debian package bubblewrap");
  }
  std::vector<std::string> args{bwrap->string()};
  if (owner > 0) {
    // bwrap keeps our parent-death signal and gives its sandbox one: nothing outlives the owner.
    args.emplace_back("--die-with-parent");
  }
  for (std::string& a : bwrap_arguments(spec, fmt::format("/proc/self/fd/{}", kInitFd), kInfoFd)) {
    args.push_back(std::move(a));
  }
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // bwrap's processes (its PID 1 is visible inside) and the init start with the instance's
  // environment, never this helper's.
  std::vector<std::string> env = instance_environment(spec.hostname, "");
  std::vector<char*> envp;
  for (std::string& e : env) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  ::execve(bwrap->c_str(), argv.data(), envp.data());
  return errno_error(errno, fmt::format("running {}", bwrap->string()));
}

Status connect_network(const fs::path& folder, pid_t pid) {
  SandboxSpec spec = KILN_TRY(load_sandbox(folder));
  // pasta counts against the instance's limits, like everything else of it.
  KILN_TRY(os::join_cgroups(os::CgroupSet{spec.cgroups, {}}));
  std::optional<fs::path> pasta = os::find_program("pasta");
  if (!pasta) {
    return make_error(ErrorCode::kNotFound,
                      "pasta not found: install the Debian package passt (or launch the instance "
                      "with network none)");
  }
  std::vector<std::string> argv{pasta->string()};
  for (std::string& a : pasta_arguments(fmt::format("/proc/{}/ns/net", pid))) {
    argv.push_back(std::move(a));
  }
  // In the sandbox's PID namespace: when its PID 1 ends, the kernel ends pasta too, whoever
  // ended the instance (kiln, an owner that died, the OOM killer). pasta stays in the host's
  // network and mount namespaces, where its sockets must be.
  int code = KILN_TRY(os::run_in_pid_namespace(
      pid, argv, {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
  if (code != 0) {
    return make_error(ErrorCode::kUnavailable, "pasta exited with code {}", code);
  }
  // Without CAP_NET_RAW, ping needs ICMP datagram sockets: allowed for every group in the
  // instance's network namespace (the host's setting, which pasta's own ping sockets need, is
  // untouched).
  return os::allow_ping_sockets(pid);
}

Result<int> enter_instance(const fs::path& folder,
                           pid_t pid,
                           Network network,
                           const std::vector<std::string>& command) {
  SandboxSpec spec = KILN_TRY(load_sandbox(folder));
  KILN_TRY(os::join_cgroups(os::CgroupSet{spec.cgroups, {}}));
  return os::run_in_namespaces(pid, network != Network::kHost, command);
}

Helpers find_helpers(const fs::path& build_dir) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  Helpers h;
  h.kiln = self;
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("KILN_LIBEXEC_DIR"); dir != nullptr && *dir != '\0') {
    candidates.emplace_back(dir);
  }
  candidates.push_back(self.parent_path() / ".." / "libexec" / "kiln");
  candidates.push_back(build_dir);
  h.sandbox_init = candidates.back() / "kiln-sandbox-init";
  for (const fs::path& dir : candidates) {
    if (fs::exists(dir / "kiln-sandbox-init", ec)) {
      h.sandbox_init = dir / "kiln-sandbox-init";
      break;
    }
  }
  return h;
}

}  // namespace kiln::instance
