// kiln-sandbox-init: the process that keeps an instance alive. bwrap runs it as the sandbox's
// first command (from a file descriptor, so it needs nothing in the instance's root). Running
// means the sandbox is complete (root, /proc, /dev in place), so it says so by writing one byte
// to file descriptor 5 and closing it; then it waits for SIGTERM, SIGINT or SIGHUP and exits,
// which ends the instance. Static, with no dependencies, so it runs over any root filesystem.

#include <signal.h>
#include <unistd.h>

namespace {
constexpr int kReadyFd = 5;
}

int main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  [[maybe_unused]] ssize_t n = write(kReadyFd, "1", 1);
  close(kReadyFd);
  int signal = 0;
  sigwait(&set, &signal);
  return 0;
}
