// Instance benchmarks (need root, bubblewrap, nsenter and busybox; print "skipped" otherwise):
// launch-to-first-exec latency of an instance over a cached (already unpacked) busybox layer,
// against a bare `bwrap ... true` over the same folder and a plain spawn of `true`.
// Usage: kiln_instance_bench KILN_BINARY SANDBOX_INIT [--reps N] [--network private|none|host]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/instance/instance.hpp"
#include "kiln/os/process.hpp"

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

bool make_busybox_layer(const fs::path& dir) {
  for (const char* sub : {"bin", "etc", "tmp", "proc", "dev", "root"}) {
    fs::create_directories(dir / sub);
  }
  fs::copy_file(*kiln::os::find_program("busybox"), dir / "bin" / "busybox");
  auto applets = kiln::os::run_process(kiln::os::ProcessSpec{{"busybox", "--list"}});
  if (!applets) {
    return false;
  }
  for (const std::string& name : kiln::split(applets->stdout_text, '\n')) {
    if (!name.empty() && name != "busybox") {
      fs::create_symlink("busybox", dir / "bin" / name);
    }
  }
  return true;
}

int quiet(const std::vector<std::string>& argv) {
  auto r = kiln::os::run_process(kiln::os::ProcessSpec{argv});
  return r ? r->exit_code : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s KILN_BINARY SANDBOX_INIT [--reps N]\n", argv[0]);
    return 2;
  }
  int reps = 10;
  kiln::instance::Network network = kiln::instance::Network::kPrivate;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--reps") == 0) {
      reps = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--network") == 0 &&
               kiln::instance::network_from_name(argv[i + 1])) {
      network = *kiln::instance::network_from_name(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown option %s %s\n", argv[i], argv[i + 1]);
      return 2;
    }
  }
  if (::geteuid() != 0 || !kiln::os::find_program("bwrap") || !kiln::os::find_program("busybox")) {
    std::printf("instance benchmarks skipped: they need root, bubblewrap and busybox\n");
    return 0;
  }
  auto tmp = kiln::TempDir::create("kiln-instance-bench-");
  if (!tmp) {
    return 1;
  }
  fs::path lower = tmp->path() / "layers" / "base";
  if (!make_busybox_layer(lower)) {
    return 1;
  }
  kiln::instance::Helpers helpers;
  helpers.kiln = argv[1];
  helpers.sandbox_init = argv[2];
  kiln::instance::Instances instances(tmp->path(), helpers);

  std::vector<double> launch, first_exec, total, terminate, bare_bwrap, spawn;
  for (int i = 0; i < reps + 1; ++i) {  // the first round warms caches and is not counted
    auto t0 = Clock::now();
    auto record = instances.launch({"busybox", "sha256:bench", {lower}, network});
    if (!record) {
      std::fprintf(stderr, "launch failed: %s\n", record.error().message.c_str());
      return 1;
    }
    double launched = ms_since(t0);
    auto t1 = Clock::now();
    auto code = instances.exec(record->id, {"/bin/true"});
    if (!code || *code != 0) {
      std::fprintf(stderr, "exec failed\n");
      return 1;
    }
    double exec_ms = ms_since(t1);
    double total_ms = ms_since(t0);
    auto t2 = Clock::now();
    if (!instances.terminate(record->id)) {
      return 1;
    }
    double term_ms = ms_since(t2);
    auto t3 = Clock::now();
    quiet({"bwrap",
           "--unshare-pid",
           "--unshare-uts",
           "--unshare-ipc",
           "--ro-bind",
           lower.string(),
           "/",
           "--proc",
           "/proc",
           "--dev",
           "/dev",
           "--",
           "/bin/true"});
    double bwrap_ms = ms_since(t3);
    auto t4 = Clock::now();
    quiet({"true"});
    double spawn_ms = ms_since(t4);
    if (i == 0) {
      continue;
    }
    launch.push_back(launched);
    first_exec.push_back(exec_ms);
    total.push_back(total_ms);
    terminate.push_back(term_ms);
    bare_bwrap.push_back(bwrap_ms);
    spawn.push_back(spawn_ms);
  }
  double t = median(total);
  std::printf("instance benchmarks (network %s): median of %d rounds after one warm-up\n\n",
              std::string(kiln::instance::network_name(network)).c_str(),
              reps);
  std::printf("%-34s %9s\n", "measure", "ms");
  std::printf("%-34s %9.2f\n", "launch (instance running)", median(launch));
  std::printf("%-34s %9.2f\n", "first exec of /bin/true", median(first_exec));
  std::printf("%-34s %9.2f   target < 50 ms: %s\n",
              "launch to first exec done",
              t,
              t < 50 ? "PASS" : "MISS");
  std::printf("%-34s %9.2f\n", "terminate", median(terminate));
  std::printf("%-34s %9.2f   (peer: one bwrap sandbox, no overlay, gone after)\n",
              "baseline: bwrap ... /bin/true",
              median(bare_bwrap));
  std::printf("%-34s %9.2f\n", "baseline: spawn true", median(spawn));
  std::printf("%-34s %9.2fx\n", "ratio launch+exec / bare bwrap", t / median(bare_bwrap));
  std::printf(
      "{\"bench\":\"kiln-instance\",\"network\":\"%s\",\"reps\":%d,\"launch_ms\":%.3f,\"first_exec_"
      "ms\":%.3f,"
      "\"launch_to_exec_ms\":%.3f,\"terminate_ms\":%.3f,\"bare_bwrap_ms\":%.3f,\"spawn_ms\":%.3f,"
      "\"pass\":%s}\n",
      std::string(kiln::instance::network_name(network)).c_str(),
      reps,
      median(launch),
      median(first_exec),
      t,
      median(terminate),
      median(bare_bwrap),
      median(spawn),
      t < 50 ? "true" : "false");
  return 0;
}
