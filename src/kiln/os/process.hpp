#pragma once

// Child processes: spawn (posix_spawn, never fork in a possibly threaded process), stream their
// output, enforce a deadline by killing the whole process group, and always reap.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln::os {

struct ProcessSpec {
  // argv[0] is searched on PATH when it has no '/'.
  std::vector<std::string> argv;
  // "NAME=value" entries; empty means inherit this process's environment.
  std::vector<std::string> env = {};
  // Working directory; empty means inherit.
  std::filesystem::path cwd = {};
};

enum class OutputStream { kStdout, kStderr };

// Called with each chunk of output as it arrives (not split on lines).
using OutputFn = std::function<void(OutputStream, std::string_view)>;

struct ProcessResult {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that ended the process, or 0
  bool timed_out = false;
  bool cancelled = false;
  std::string stdout_text;
  std::string stderr_text;
};

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

// Owns a running child that leads its own process group. Destruction kills the group and reaps.
class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const ProcessSpec& spec);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Sends `signal` to every process in the child's group.
  void kill_group(int signal);
  // Reads output until both streams close or the deadline passes or *cancel becomes true, then
  // kills the group if needed and reaps the child.
  Result<ProcessResult> wait(const Deadline& deadline,
                             const std::atomic<bool>* cancel,
                             const OutputFn& on_output);

 private:
  ChildProcess(pid_t pid, UniqueFd out, UniqueFd err)
      : pid_(pid), out_(std::move(out)), err_(std::move(err)) {}
  pid_t pid_ = -1;
  UniqueFd out_;
  UniqueFd err_;
};

// Spawns, waits and returns the result; a spawn failure (no such program) is an error.
Result<ProcessResult> run_process(const ProcessSpec& spec,
                                  const Deadline& deadline = std::nullopt,
                                  const std::atomic<bool>* cancel = nullptr,
                                  const OutputFn& on_output = {});

// Reaps the child `pid` (retrying on EINTR) and returns its exit code as a shell gives it
// (128 + signal when a signal ended it).
Result<int> wait_exit_code(pid_t pid);

// Runs `spec` with this process's stdin, stdout and stderr (a terminal stays usable) and returns
// its exit code (128 + signal when a signal ended it).
Result<int> run_attached(const ProcessSpec& spec);

// Starts `spec` in a session of its own, detached from this process's terminal, with stdin from
// /dev/null, stdout and stderr appended to `log`, and `fds` (this process's fd -> the child's fd
// number) passed on. Returns its pid; the caller may reap it with waitpid or leave it to outlive
// this process.
Result<pid_t> spawn_detached(const ProcessSpec& spec,
                             const std::filesystem::path& log,
                             const std::vector<std::pair<int, int>>& fds);

// Makes this process die (SIGKILL) when its parent does, and checks that its parent is still
// `expected_parent`: a parent that died before the request was made would never send the
// signal, so that case is an error (kUnavailable) and the caller should exit. The request
// survives execve of a program that gains no privileges, so a helper can ask for it, then exec.
Status die_with_parent(pid_t expected_parent);

// Finds `name` on $PATH (or the given path list); empty optional if it is not there.
std::optional<std::filesystem::path> find_program(std::string_view name,
                                                  std::string_view path_list = {});

}  // namespace kiln::os
