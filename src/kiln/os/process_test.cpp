#include "kiln/os/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/time.hpp"

namespace kiln::os {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

ProcessSpec shell(const std::string& script) {
  return ProcessSpec{{"sh", "-c", script}, {}, {}};
}

// A spec whose processes (and everything they start) carry a unique variable in their
// environment, so the test can find them in /proc afterwards.
struct Marked {
  ProcessSpec spec;
  std::string marker;
};

Marked marked_shell(const std::string& script) {
  std::string marker = "KILN_PROCESS_TEST_MARKER=" + make_uuid_v4();
  const char* path = std::getenv("PATH");
  std::vector<std::string> env{std::string("PATH=") + (path != nullptr ? path : "/usr/bin:/bin"),
                               marker};
  return Marked{ProcessSpec{{"sh", "-c", script}, env, {}}, marker};
}

// Processes (not zombies) whose environment holds `marker`.
std::vector<pid_t> live_processes_with(const std::string& marker) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    Result<std::string> environ_text = read_file(entry.path() / "environ");
    if (!environ_text || environ_text->find(marker) == std::string::npos) {
      continue;  // gone, not ours, or exiting (a dying process has no environment)
    }
    Result<std::string> stat = read_file(entry.path() / "stat");
    if (!stat) {
      continue;
    }
    size_t paren = stat->rfind(')');
    char state = paren != std::string::npos && paren + 2 < stat->size() ? (*stat)[paren + 2] : '?';
    if (state != 'Z' && state != 'X') {
      found.push_back(static_cast<pid_t>(std::stoi(name)));
    }
  }
  return found;
}

// SIGKILL is delivered asynchronously: a killed process may need a moment to exit. Polls until
// none is left (or gives up after a generous bound and returns those still alive).
std::vector<pid_t> survivors(const std::string& marker) {
  auto give_up = steady_clock::now() + std::chrono::seconds(10);
  std::vector<pid_t> alive = live_processes_with(marker);
  while (!alive.empty() && steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    alive = live_processes_with(marker);
  }
  return alive;
}

// A deadline far enough away that it only ends a test that would otherwise hang.
Deadline safety_deadline() {
  return steady_clock::now() + std::chrono::seconds(20);
}

TEST(ProcessTest, ReportsExitCodes) {
  Result<ProcessResult> ok = run_process(shell("exit 0"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_EQ(ok->signal, 0);
  EXPECT_FALSE(ok->timed_out);
  EXPECT_FALSE(ok->cancelled);

  Result<ProcessResult> three = run_process(shell("exit 3"));
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->exit_code, 3);

  Result<ProcessResult> reboot = run_process(shell("exit 194"));
  ASSERT_TRUE(reboot.ok());
  EXPECT_EQ(reboot->exit_code, 194);
}

TEST(ProcessTest, ReportsTheSignalThatEndedTheProcess) {
  Result<ProcessResult> r = run_process(shell("kill -TERM $$"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
}

TEST(ProcessTest, RunsAProgramWithArguments) {
  Result<ProcessResult> r = run_process(ProcessSpec{{"printf", "%s|%s", "a b", "c"}, {}, {}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stdout_text, "a b|c");
}

TEST(ProcessTest, CapturesStdoutAndStderrSeparately) {
  Result<ProcessResult> r =
      run_process(shell("echo out1; echo err1 >&2; echo out2; echo err2 >&2"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_text, "out1\nout2\n");
  EXPECT_EQ(r->stderr_text, "err1\nerr2\n");
}

TEST(ProcessTest, StreamsEveryChunkToTheCallback) {
  std::string streamed_out;
  std::string streamed_err;
  int calls = 0;
  OutputFn on_output = [&](OutputStream stream, std::string_view chunk) {
    ++calls;
    (stream == OutputStream::kStdout ? streamed_out : streamed_err).append(chunk);
  };
  Result<ProcessResult> r = run_process(
      shell("i=0; while [ $i -lt 50 ]; do echo line $i; echo problem $i >&2; i=$((i+1)); done"),
      std::nullopt,
      nullptr,
      on_output);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(calls, 2);
  EXPECT_EQ(streamed_out, r->stdout_text);
  EXPECT_EQ(streamed_err, r->stderr_text);
  EXPECT_EQ(split(r->stdout_text, '\n').size(), 51u);
  EXPECT_EQ(split(r->stdout_text, '\n')[49], "line 49");
  EXPECT_EQ(split(r->stderr_text, '\n')[0], "problem 0");
}

TEST(ProcessTest, CapturesOutputLargerThanThePipeBuffer) {
  Result<ProcessResult> r = run_process(shell("head -c 1000000 /dev/zero | tr '\\0' x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_text.size(), 1000000u);
  EXPECT_EQ(r->stdout_text.find_first_not_of('x'), std::string::npos);
}

TEST(ProcessTest, StdinIsEmpty) {
  Result<ProcessResult> r = run_process(ProcessSpec{{"cat"}, {}, {}}, safety_deadline());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_text, "");
}

TEST(ProcessTest, UsesTheGivenEnvironmentAndWorkingDirectory) {
  Result<TempDir> dir = TempDir::create("kiln-process-test-");
  ASSERT_TRUE(dir.ok());
  ProcessSpec spec{{"sh", "-c", "echo \"$GREETING\"; pwd"}, {"GREETING=hello there"}, dir->path()};
  Result<ProcessResult> r = run_process(spec);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stdout_text, "hello there\n" + fs::canonical(dir->path()).string() + "\n");
}

TEST(ProcessTest, AMissingProgramIsNotFound) {
  Result<ProcessResult> r = run_process(ProcessSpec{{"kiln-no-such-program-x7q"}, {}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("kiln-no-such-program-x7q"), std::string::npos)
      << r.error().message;
}

TEST(ProcessTest, AMissingProgramByPathIsNotFound) {
  Result<ProcessResult> r = run_process(ProcessSpec{{"/nonexistent/kiln/program"}, {}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(ProcessTest, AnEmptyCommandIsInvalid) {
  Result<ProcessResult> r = run_process(ProcessSpec{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(ProcessTest, ADeadlineKillsTheWholeProcessGroup) {
  Marked m = marked_shell("sleep 30 & echo started; sleep 30");
  Result<ProcessResult> r = run_process(m.spec, steady_clock::now() + std::chrono::seconds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->cancelled);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->stdout_text, "started\n");  // the background child existed before the deadline
  EXPECT_EQ(survivors(m.marker), std::vector<pid_t>{});
}

TEST(ProcessTest, ADeadlineInThePastStopsAtOnce) {
  Marked m = marked_shell("sleep 30");
  Result<ProcessResult> r = run_process(m.spec, steady_clock::now());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(survivors(m.marker), std::vector<pid_t>{});
}

TEST(ProcessTest, CancellationKillsTheGroup) {
  Marked m = marked_shell("sleep 30 & echo ready; sleep 30");
  std::atomic<bool> cancel{false};
  size_t alive_before_cancel = 0;
  // Cancel as soon as the child shows it runs: no timing involved.
  OutputFn on_output = [&](OutputStream, std::string_view) {
    alive_before_cancel = live_processes_with(m.marker).size();
    cancel = true;
  };
  Result<ProcessResult> r = run_process(m.spec, safety_deadline(), &cancel, on_output);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->stdout_text, "ready\n");
  EXPECT_GE(alive_before_cancel, 2u);  // the shell and its background child: the probe works
  EXPECT_EQ(survivors(m.marker), std::vector<pid_t>{});
}

TEST(ProcessTest, CancellationBeforeTheWaitStopsAtOnce) {
  Marked m = marked_shell("sleep 30");
  std::atomic<bool> cancel{true};
  Result<ProcessResult> r = run_process(m.spec, safety_deadline(), &cancel);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(survivors(m.marker), std::vector<pid_t>{});
}

TEST(ProcessTest, AChildThatClosesItsOutputIsStillWaitedFor) {
  // If wait() stopped when the pipes closed it would kill the child: the exit code proves it
  // waited for the exit.
  Result<ProcessResult> r =
      run_process(shell("echo before; exec >&- 2>&-; sleep 0.5; exit 7"), safety_deadline());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->signal, 0);
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->stdout_text, "before\n");
}

TEST(ProcessTest, BackgroundChildrenHoldingThePipeDoNotHoldUpTheWait) {
  Marked m = marked_shell("sleep 30 & echo done; echo warned >&2; exit 3");
  Result<ProcessResult> r = run_process(m.spec, safety_deadline());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->signal, 0);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_text, "done\n");
  EXPECT_EQ(r->stderr_text, "warned\n");
  // What the child left behind is killed with its group.
  EXPECT_EQ(survivors(m.marker), std::vector<pid_t>{});
}

TEST(ProcessTest, DestroyingAChildKillsAndReapsItsGroup) {
  Marked m = marked_shell("sleep 30 & sleep 30");
  pid_t pid = -1;
  {
    Result<ChildProcess> child = ChildProcess::spawn(m.spec);
    ASSERT_TRUE(child.ok()) << child.error().message;
    pid = child->pid();
    EXPECT_GT(pid, 0);
  }
  EXPECT_EQ(survivors(m.marker), std::vector<pid_t>{});
  // Reaped, not left a zombie: the pid is no longer a child of this process.
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ProcessTest, ChildLeadsItsOwnProcessGroup) {
  Result<ChildProcess> child = ChildProcess::spawn(shell("sleep 30"));
  ASSERT_TRUE(child.ok());
  pid_t pid = child->pid();
  Result<std::string> stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  ASSERT_TRUE(stat.ok()) << stat.error().message;
  // Fields after "(comm)": state ppid pgrp ...
  std::vector<std::string> fields = split(stat->substr(stat->rfind(')') + 2), ' ');
  ASSERT_GE(fields.size(), 3u);
  EXPECT_EQ(fields[2], std::to_string(pid));
  child->kill_group(SIGKILL);
  Result<ProcessResult> r = child->wait(safety_deadline(), nullptr, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, SIGKILL);
}

TEST(FindProgramTest, FindsProgramsOnPath) {
  std::optional<fs::path> sh = find_program("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_TRUE(sh->is_absolute() || sh->has_parent_path()) << *sh;
  EXPECT_EQ(find_program("kiln-no-such-program-x7q"), std::nullopt);
}

TEST(FindProgramTest, APathWithASlashIsCheckedAsIs) {
  std::optional<fs::path> sh = find_program("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ(find_program(sh->string()), *sh);
  EXPECT_EQ(find_program("/nonexistent/sh"), std::nullopt);
}

TEST(FindProgramTest, SearchesTheGivenPathListAndSkipsNonExecutables) {
  Result<TempDir> dir = TempDir::create("kiln-find-program-");
  ASSERT_TRUE(dir.ok());
  fs::path a = dir->path() / "a";
  fs::path b = dir->path() / "b";
  fs::create_directories(a);
  fs::create_directories(b);
  ASSERT_TRUE(write_file(a / "tool", "not executable", 0644).ok());
  ASSERT_TRUE(write_file(b / "tool", "#!/bin/sh\n", 0755).ok());
  fs::create_directories(a / "folder");  // a directory is never a program
  std::string list = a.string() + ":" + b.string();
  EXPECT_EQ(find_program("tool", list), b / "tool");
  EXPECT_EQ(find_program("folder", list), std::nullopt);
  EXPECT_EQ(find_program("tool", a.string()), std::nullopt);
}

}  // namespace
}  // namespace kiln::os
