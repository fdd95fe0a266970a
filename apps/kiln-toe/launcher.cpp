// kiln-toe's launcher: a static program with no dependencies that starts the real kiln-toe
// through the dynamic loader and libraries installed beside it, so it runs in any x86-64 root
// filesystem, including one with no C library of its own (docs/toe-portable.md).
//
// Layout, relative to this program's folder:
//   KILN_LAUNCH_RELATIVE/kiln-toe                    the real program
//   KILN_LAUNCH_RELATIVE/lib/ld-linux-x86-64.so.2    the loader
//   KILN_LAUNCH_RELATIVE/lib/*.so*                   every library it needs
//
// The loader is started with --library-path, which applies to this one program: processes that
// kiln-toe starts (the steps' commands) see the root filesystem's own libraries.

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#ifndef KILN_LAUNCH_RELATIVE
#define KILN_LAUNCH_RELATIVE "../libexec/kiln"
#endif

namespace {

// This program's own path: /proc/self/exe where /proc is mounted, else argv[0].
std::string self_path(const char* argv0) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    return buf;
  }
  if (strchr(argv0, '/') != nullptr && realpath(argv0, buf) != nullptr) {
    return buf;
  }
  const char* path = getenv("PATH");
  std::string paths = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= paths.size()) {
    size_t end = paths.find(':', start);
    std::string dir =
        paths.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + argv0;
    if (access(candidate.c_str(), X_OK) == 0 && realpath(candidate.c_str(), buf) != nullptr) {
      return buf;
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string self = self_path(argc > 0 ? argv[0] : "kiln-toe");
  if (self.empty()) {
    fprintf(stderr, "kiln-toe: cannot find where kiln-toe is installed (no /proc, no path)\n");
    return 127;
  }
  std::string base = self.substr(0, self.rfind('/')) + "/" KILN_LAUNCH_RELATIVE;
  std::string loader = base + "/lib/ld-linux-x86-64.so.2";
  std::string libdir = base + "/lib";
  std::string program = base + "/kiln-toe";
  std::vector<char*> args;
  args.push_back(const_cast<char*>(loader.c_str()));
  args.push_back(const_cast<char*>("--library-path"));
  args.push_back(const_cast<char*>(libdir.c_str()));
  args.push_back(const_cast<char*>("--argv0"));
  args.push_back(argc > 0 ? argv[0] : const_cast<char*>("kiln-toe"));
  args.push_back(const_cast<char*>(program.c_str()));
  for (int i = 1; i < argc; ++i) {
    args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  execv(loader.c_str(), args.data());
  fprintf(stderr, "kiln-toe: cannot start %s: %s\n", loader.c_str(), strerror(errno));
  return 127;
}
