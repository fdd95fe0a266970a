// kiln image bootstrap: kiln's managed parent images. busybox from the host's static busybox
// (seconds, no network: for tests and tiny images); Debian and Ubuntu with mmdebstrap.

#include <unistd.h>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/image/images.hpp"
#include "kiln/os/process.hpp"

namespace kiln::image {
namespace {

struct Distribution {
  std::string_view name;
  std::string_view suite;
  std::string_view mirror;
};

constexpr Distribution kDistributions[] = {
    {"debian", "bookworm", "http://deb.debian.org/debian"},
    {"ubuntu", "noble", "http://archive.ubuntu.com/ubuntu"},
};

constexpr std::string_view kBusyboxPasswd = "root:x:0:0:root:/root:/bin/sh\n";
constexpr std::string_view kBusyboxGroup = "root:x:0:\n";

Status make_dirs(const fs::path& root, std::initializer_list<const char*> dirs) {
  std::error_code ec;
  for (const char* d : dirs) {
    fs::create_directories(root / d, ec);
    if (ec) {
      return make_error(ErrorCode::kIo, "creating {}: {}", (root / d).string(), ec.message());
    }
  }
  fs::permissions(root / "tmp", fs::perms::all | fs::perms::sticky_bit, ec);
  return ok_status();
}

// A root filesystem of the host's static busybox: the binary, one link per applet where busybox
// says it belongs, and the few files a shell session expects.
Status busybox_tree(const fs::path& root) {
  std::optional<fs::path> busybox = os::find_program("busybox");
  if (!busybox) {
    return make_error(ErrorCode::kNotFound,
                      "busybox not found: install the Debian package busybox-static");
  }
  KILN_TRY(make_dirs(root,
                     {"bin",
                      "sbin",
                      "usr/bin",
                      "usr/sbin",
                      "etc",
                      "tmp",
                      "root",
                      "proc",
                      "dev",
                      "sys",
                      "run",
                      "var/tmp"}));
  std::error_code ec;
  fs::copy_file(*busybox, root / "bin/busybox", ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "copying {}: {}", busybox->string(), ec.message());
  }
  os::ProcessResult list =
      KILN_TRY(os::run_process(os::ProcessSpec{{busybox->string(), "--list-full"}}));
  for (const std::string& applet : split(list.stdout_text, '\n')) {
    if (applet.empty() || applet == "bin/busybox" || applet.find("..") != std::string::npos) {
      continue;
    }
    fs::path link = root / applet;
    fs::path target = fs::relative(root / "bin/busybox", link.parent_path(), ec);
    fs::create_symlink(target, link, ec);
  }
  os::ProcessResult version = KILN_TRY(os::run_process(os::ProcessSpec{{busybox->string()}}));
  std::string first = split(version.stdout_text, '\n').front();
  KILN_TRY(write_file(root / "etc/passwd", kBusyboxPasswd));
  KILN_TRY(write_file(root / "etc/group", kBusyboxGroup));
  KILN_TRY(write_file(root / "etc/os-release",
                      fmt::format("NAME=\"BusyBox\"\nID=busybox\nPRETTY_NAME=\"{}\"\n", first)));
  return ok_status();
}

Result<fs::path> mmdebstrap(const BootstrapOptions& options,
                            const Distribution& distribution,
                            const fs::path& out) {
  if (!os::find_program("mmdebstrap")) {
    return make_error(ErrorCode::kNotFound,
                      "mmdebstrap not found: install the Debian package mmdebstrap");
  }
  std::string suite = options.suite.empty() ? std::string(distribution.suite) : options.suite;
  std::string mirror = options.mirror.empty() ? std::string(distribution.mirror) : options.mirror;
  fs::path tarball = out / "rootfs.tar";
  os::ProcessSpec spec{
      {"mmdebstrap", "--variant=" + options.variant, "--quiet", suite, tarball.string(), mirror}};
  os::ProcessResult run = KILN_TRY(
      os::run_process(spec, std::nullopt, nullptr, [](os::OutputStream, std::string_view chunk) {
        // progress: mmdebstrap's own lines
        [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, chunk.data(), chunk.size());
      }));
  if (run.exit_code != 0) {
    return make_error(ErrorCode::kUnavailable,
                      "mmdebstrap {} {} failed with exit code {}: {}",
                      suite,
                      mirror,
                      run.exit_code,
                      tail_lines(run.stderr_text, 5));
  }
  return tarball;
}

}  // namespace

Result<store::ImageVersion> Images::bootstrap(const BootstrapOptions& options,
                                              const ImageName& name) {
  TempDir work = KILN_TRY(TempDir::create("kiln-bootstrap-"));
  auto writer = KILN_TRY(store_->blobs().writer());
  store::LayerInfo layer;
  if (options.distribution == "busybox") {
    fs::path root = work.path() / "root";
    KILN_TRY(busybox_tree(root));
    layer = KILN_TRY(store::write_layer_from_tree(root, layer_format, *writer));
  } else {
    const Distribution* found = nullptr;
    for (const Distribution& d : kDistributions) {
      if (d.name == options.distribution) {
        found = &d;
      }
    }
    if (found == nullptr) {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown distribution '{}': busybox, debian or ubuntu",
                        options.distribution);
    }
    fs::path tarball = KILN_TRY(mmdebstrap(options, *found, work.path()));
    layer = KILN_TRY(store::normalize_rootfs_archive(tarball, layer_format, *writer));
  }
  return add_single_layer(
      name, layer, "kiln image bootstrap " + options.distribution, std::nullopt);
}

}  // namespace kiln::image
