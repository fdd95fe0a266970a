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

Json to_json(const InstanceRecord& r) {
  return Json{{"id", r.id},
              {"image", r.image},
              {"imageDigest", r.image_digest},
              {"created", r.created},
              {"instanceType", r.instance_type},
              {"stopped", r.stopped},
              {"monitorPid", r.monitor_pid},
              {"initPid", r.init_pid},
              {"initStart", r.init_start},
              {"sandbox", to_json(r.sandbox)}};
}

Result<InstanceRecord> record_from_json(const Json& j) {
  InstanceRecord r;
  try {
    r.id = j.at("id").get<std::string>();
    r.image = j.at("image").get<std::string>();
    r.image_digest = j.at("imageDigest").get<std::string>();
    r.created = j.at("created").get<std::string>();
    r.instance_type = j.value("instanceType", "");
    r.stopped = j.at("stopped").get<bool>();
    r.monitor_pid = j.at("monitorPid").get<pid_t>();
    r.init_pid = j.at("initPid").get<pid_t>();
    r.init_start = j.at("initStart").get<unsigned long long>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorruption, "instance record: {}", e.what());
  }
  r.sandbox = KILN_TRY(sandbox_from_json(j.value("sandbox", Json::object())));
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
  InstanceRecord record;
  record.id = new_instance_id();
  record.instance_type = request.instance_type;
  record.image = request.image;
  record.image_digest = request.image_digest;
  record.created = format_rfc3339_utc(std::chrono::system_clock::now());
  fs::path folder = dir_ / record.id;
  std::error_code ec;
  for (const char* sub : {"upper", "work", "merged"}) {
    fs::create_directories(folder / sub, ec);
    if (ec) {
      return make_error(ErrorCode::kIo, "creating {}: {}", (folder / sub).string(), ec.message());
    }
  }
  fs::permissions(folder, fs::perms::owner_all, ec);
  std::vector<BindMount> binds = request.binds;
  if (!request.exchange_target.empty()) {
    fs::create_directory(folder / "exchange", ec);
    if (ec) {
      return make_error(
          ErrorCode::kIo, "creating {}: {}", (folder / "exchange").string(), ec.message());
    }
    binds.push_back(BindMount{folder / "exchange", request.exchange_target, false});
  }
  record.sandbox = SandboxSpec{request.lower,
                               folder / "upper",
                               folder / "work",
                               folder / "merged",
                               record.id,
                               request.network,
                               binds};
  os::CgroupSet cgroups = KILN_TRY(os::create_cgroups(record.id, limits));
  for (const std::string& warning : cgroups.warnings) {
    KILN_LOG(kWarning, "instance {}: {}", record.id, warning);
  }
  record.sandbox.cgroups = cgroups.groups;
  KILN_TRY(save(record));
  if (Status started = start(record.id); !started) {
    std::error_code ignored;
    fs::remove_all(folder, ignored);
    return started.error();
  }
  return get(record.id);
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
  os::ProcessSpec spec{{helpers_.kiln.string(), "__instance-run", folder.string()}};
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
  record.stopped = false;
  return save(record);
}

Status Instances::kill_processes(InstanceRecord& record) {
  if (!record.stopped && os::process_alive(record.init_pid, record.init_start)) {
    // The sandbox's first process is PID 1 of its namespace: killing it kills every process in
    // the instance, and bwrap (the monitor) exits, which frees the private mount namespace.
    ::kill(record.init_pid, SIGKILL);
    if (!wait_gone(record.init_pid, kStopTimeout)) {
      return make_error(ErrorCode::kTimeout, "instance {}: processes did not end", record.id);
    }
  }
  if (record.monitor_pid > 0) {
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
  std::error_code ec;
  fs::remove_all(dir_ / id, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "removing instance {}: {}", id, ec.message());
  }
  return ok_status();
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
                                record.sandbox.network == Network::kNone ? "none" : "host"};
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

Status run_sandbox(const fs::path& folder, const Helpers& helpers) {
  SandboxSpec spec = KILN_TRY(load_sandbox(folder));
  // Join the limits first: bwrap and everything in the sandbox inherit them.
  KILN_TRY(os::join_cgroups(os::CgroupSet{spec.cgroups, {}}));
  KILN_TRY(os::enter_private_mount_namespace());
  KILN_TRY(os::mount_overlay(os::OverlayMount{spec.lower, spec.upper, spec.work, spec.merged}));
  std::optional<fs::path> bwrap = os::find_program(helpers.bwrap.string());
  if (!bwrap) {
    return make_error(ErrorCode::kNotFound,
                      "bwrap not found: install the Debian package bubblewrap");
  }
  std::vector<std::string> args{bwrap->string()};
  for (std::string& a : bwrap_arguments(spec, fmt::format("/proc/self/fd/{}", kInitFd), kInfoFd)) {
    args.push_back(std::move(a));
  }
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  ::execv(bwrap->c_str(), argv.data());
  return errno_error(errno, fmt::format("running {}", bwrap->string()));
}

Result<int> enter_instance(const fs::path& folder,
                           pid_t pid,
                           Network network,
                           const std::vector<std::string>& command) {
  SandboxSpec spec = KILN_TRY(load_sandbox(folder));
  KILN_TRY(os::join_cgroups(os::CgroupSet{spec.cgroups, {}}));
  return os::run_in_namespaces(pid, network == Network::kNone, command);
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
