#include "kiln/os/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "kiln/base/strings.hpp"

extern char** environ;

namespace kiln::os {
namespace {

constexpr size_t kMaxCapture = 64u << 20;  // keep at most 64 MiB of each stream in memory

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  // O_CLOEXEC so no other child inherits these; posix_spawn's dup2 clears it on 1 and 2.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return errno_error(errno, "creating a pipe");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child's stdin: /dev/null, or where a root filesystem has no /dev, the read end of a pipe
// whose write end is closed (reads return end-of-file just the same).
Result<UniqueFd> empty_input() {
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null.valid()) {
    return null;
  }
  Pipe pipe = KILN_TRY(make_pipe());
  return std::move(pipe.read);
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

void append_capped(std::string& buffer, std::string_view chunk) {
  if (buffer.size() < kMaxCapture) {
    buffer.append(chunk.substr(0, kMaxCapture - buffer.size()));
  }
}

}  // namespace

std::optional<std::filesystem::path> find_program(std::string_view name,
                                                  std::string_view path_list) {
  if (name.find('/') != std::string_view::npos) {
    return ::access(std::string(name).c_str(), X_OK) == 0
               ? std::optional<std::filesystem::path>(name)
               : std::nullopt;
  }
  std::string paths(path_list);
  if (paths.empty()) {
    const char* env_path = std::getenv("PATH");
    paths = env_path != nullptr ? env_path
                                : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  }
  for (const std::string& dir : split(paths, ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

Result<ChildProcess> ChildProcess::spawn(const ProcessSpec& spec) {
  if (spec.argv.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "spawning a process: empty command");
  }
  std::optional<std::filesystem::path> program = find_program(spec.argv[0]);
  if (!program) {
    return make_error(ErrorCode::kNotFound, "{}: command not found", spec.argv[0]);
  }
  Pipe out = KILN_TRY(make_pipe());
  Pipe err = KILN_TRY(make_pipe());
  UniqueFd in = KILN_TRY(empty_input());

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
  if (!spec.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child leads a new process group, so a timeout can kill everything it started.
  posix_spawnattr_setpgroup(&attr, 0);
  // Start with default signal handling and an empty mask whatever this process set up.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv = c_strings(spec.argv);
  std::vector<char*> envp = c_strings(spec.env);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid,
                         program->c_str(),
                         &actions,
                         &attr,
                         argv.data(),
                         spec.env.empty() ? environ : envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return errno_error(rc, fmt::format("running {}", program->string()));
  }
  return ChildProcess(pid, std::move(out.read), std::move(err.read));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill_group(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void ChildProcess::kill_group(int signal) {
  if (pid_ > 0) {
    ::kill(-pid_, signal);
  }
}

Result<ProcessResult> ChildProcess::wait(const Deadline& deadline,
                                         const std::atomic<bool>* cancel,
                                         const OutputFn& on_output) {
  ProcessResult result;
  // A pidfd becomes readable when the child exits; polling it with the pipes means a child that
  // closed its output but still runs is waited for, and one that left a background process
  // holding the pipes is not waited for forever.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  bool exited = false;
  UniqueFd* fds[2] = {&out_, &err_};
  char buf[65536];
  auto drain = [&](int index) {
    ssize_t got = ::read(fds[index]->get(), buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
      return;
    }
    if (got <= 0) {
      fds[index]->reset();
      return;
    }
    std::string_view chunk(buf, static_cast<size_t>(got));
    append_capped(index == 0 ? result.stdout_text : result.stderr_text, chunk);
    if (on_output) {
      on_output(index == 0 ? OutputStream::kStdout : OutputStream::kStderr, chunk);
    }
  };
  while (out_.valid() || err_.valid() || (pidfd.valid() && !exited)) {
    int timeout_ms = 200;  // wake up regularly to notice cancellation
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        result.timed_out = true;
        break;
      }
      timeout_ms = static_cast<int>(std::min<long>(left.count() + 1, timeout_ms));
    }
    if (cancel != nullptr && cancel->load()) {
      result.cancelled = true;
      break;
    }
    if (exited) {
      // The child is gone: take what is already buffered, then stop waiting for stragglers.
      timeout_ms = 0;
    }
    pollfd pfds[3];
    int which[3];
    nfds_t n = 0;
    for (int i = 0; i < 2; ++i) {
      if (fds[i]->valid()) {
        pfds[n] = pollfd{fds[i]->get(), POLLIN, 0};
        which[n++] = i;
      }
    }
    if (pidfd.valid() && !exited) {
      pfds[n] = pollfd{pidfd.get(), POLLIN, 0};
      which[n++] = 2;
    }
    int ready = ::poll(pfds, n, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, "waiting for process output");
    }
    if (ready == 0 && exited) {
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      if (which[i] == 2) {
        exited = true;
      } else {
        drain(which[i]);
      }
    }
  }
  // Kill the group before reaping: the unreaped child still holds the group id, so the signal
  // cannot reach an unrelated group that reused the id. This ends whatever the step left behind.
  kill_group(SIGKILL);
  out_.reset();
  err_.reset();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      return errno_error(errno, "reaping a child process");
    }
  }
  pid_ = -1;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    result.exit_code = 128 + result.signal;
  }
  return result;
}

namespace {

struct SpawnAttributes {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

Result<pid_t> spawn_with(const ProcessSpec& spec, SpawnAttributes& sa) {
  std::optional<std::filesystem::path> program = find_program(spec.argv.at(0));
  if (!program) {
    return make_error(ErrorCode::kNotFound, "{}: command not found", spec.argv[0]);
  }
  if (!spec.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&sa.actions, spec.cwd.c_str());
  }
  std::vector<char*> argv = c_strings(spec.argv);
  std::vector<char*> envp = c_strings(spec.env);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid,
                         program->c_str(),
                         &sa.actions,
                         &sa.attr,
                         argv.data(),
                         spec.env.empty() ? environ : envp.data());
  if (rc != 0) {
    return errno_error(rc, fmt::format("running {}", program->string()));
  }
  return pid;
}

}  // namespace

Result<int> wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return errno_error(errno, "waiting for a child process");
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<int> run_attached(const ProcessSpec& spec) {
  SpawnAttributes sa;
  return wait_exit_code(KILN_TRY(spawn_with(spec, sa)));
}

Result<pid_t> spawn_detached(const ProcessSpec& spec,
                             const std::filesystem::path& log,
                             const std::vector<std::pair<int, int>>& fds) {
  SpawnAttributes sa;
  posix_spawn_file_actions_addopen(&sa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(
      &sa.actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&sa.actions, STDOUT_FILENO, STDERR_FILENO);
  for (const auto& [from, to] : fds) {
    posix_spawn_file_actions_adddup2(&sa.actions, from, to);  // clears close-on-exec on `to`
  }
  // A session of its own: no controlling terminal, untouched by this process's signals; default
  // signal handling whatever this process ignores (a build ignores SIGPIPE).
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&sa.attr, &all);
  posix_spawnattr_setsigmask(&sa.attr, &none);
  posix_spawnattr_setflags(&sa.attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  return spawn_with(spec, sa);
}

Status die_with_parent(pid_t expected_parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    return errno_error(errno, "asking to die with the parent process");
  }
  // Checked after the request: a parent that dies from now on sends the signal.
  if (::getppid() != expected_parent) {
    return make_error(ErrorCode::kUnavailable,
                      "the process that owns this one (pid {}) has ended",
                      expected_parent);
  }
  return ok_status();
}

Result<ProcessResult> run_process(const ProcessSpec& spec,
                                  const Deadline& deadline,
                                  const std::atomic<bool>* cancel,
                                  const OutputFn& on_output) {
  ChildProcess child = KILN_TRY(ChildProcess::spawn(spec));
  return child.wait(deadline, cancel, on_output);
}

}  // namespace kiln::os
