#include "kiln/cli/context.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "kiln/build/recovery.hpp"

#ifndef KILN_SOURCE_COMPONENTS_DIR
#define KILN_SOURCE_COMPONENTS_DIR ""
#endif

namespace kiln::cli {

std::filesystem::path resolve_root(const std::string& flag) {
  if (!flag.empty()) {
    return std::filesystem::absolute(flag);
  }
  if (const char* env = std::getenv("KILN_ROOT"); env != nullptr && *env != '\0') {
    return std::filesystem::absolute(env);
  }
  if (::geteuid() == 0) {
    return "/var/lib/kiln";
  }
  if (const char* data = std::getenv("XDG_DATA_HOME"); data != nullptr && *data != '\0') {
    return std::filesystem::path(data) / "kiln";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/tmp") / ".local/share/kiln";
}

std::filesystem::path resolve_log_root(const std::string& flag, const std::filesystem::path& root) {
  std::filesystem::path chosen = root / "logs";
  if (!flag.empty()) {
    chosen = flag;
  } else if (const char* env = std::getenv("KILN_LOG_ROOT"); env != nullptr && *env != '\0') {
    chosen = env;
  }
  std::filesystem::path normal = std::filesystem::absolute(chosen).lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) {
    normal = normal.parent_path();  // "/srv/logs/" is "/srv/logs"
  }
  return normal;
}

Result<image::Images*> Context::images() {
  if (!images_) {
    images_ = KILN_TRY(image::Images::open(root));
    images_->layer_format = layer_format;
    std::error_code ec;
    if (recover_builds && !catalog_ && std::filesystem::exists(root / "state.db", ec)) {
      (void)catalog();  // for its recovery; a command on images alone does not need it
    }
  }
  return images_.get();
}

std::optional<std::filesystem::path> managed_components_dir() {
  if (const char* env = std::getenv("KILN_COMPONENTS_DIR"); env != nullptr && *env != '\0') {
    return std::filesystem::absolute(env);
  }
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed = exe.parent_path().parent_path() / "share/kiln/components";
    if (std::filesystem::exists(installed / "managed.json", ec)) {
      return installed;
    }
  }
  std::filesystem::path source = KILN_SOURCE_COMPONENTS_DIR;
  if (!source.empty() && std::filesystem::exists(source / "managed.json", ec)) {
    return source;
  }
  return std::nullopt;
}

Result<state::Catalog*> Context::catalog() {
  if (!catalog_) {
    state::Account account = KILN_TRY(state::Account::from_environment());
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) {
      return errno_error(ec.value(), "creating " + root.string());
    }
    std::unique_ptr<state::Catalog> opened =
        KILN_TRY(state::Catalog::open(root / "state.db", account, clock_));
    opened->set_log_root(resolve_log_root("", root));
    if (std::optional<std::filesystem::path> dir = managed_components_dir()) {
      KILN_TRY_CTX(opened->sync_managed_components(*dir),
                   "loading the managed components of " + dir->string());
    }
    catalog_ = std::move(opened);
    recover();
  }
  return catalog_.get();
}

void Context::recover() {
  if (!recover_builds || recovered_) {
    return;
  }
  recovered_ = true;
  Result<std::vector<build::Json>> left = build::unfinished_images(*catalog_);
  if (!left) {
    return;
  }
  // The store only when there is a build to look at: most commands have none.
  image::Images* opened = nullptr;
  if (!left->empty()) {
    Result<image::Images*> got = images();
    if (!got) {
      return;
    }
    opened = *got;
  }
  build::RecoveryEnvironment env{root, catalog_.get(), opened, helpers};
  Result<build::RecoveryReport> done = build::recover_builds(env, *left, false);
  if (!done) {
    std::fprintf(
        stderr, "kiln: warning: recovering interrupted builds: %s\n", done.error().message.c_str());
    return;
  }
  for (const std::string& arn : done->failed) {
    std::fprintf(stderr,
                 "kiln: %s: its build was interrupted (the process building it is gone): FAILED\n",
                 arn.c_str());
  }
}

Result<image::ImageName> image_name(const std::string& name, const std::string& version) {
  KILN_TRY(catalog::validate_name(name));
  catalog::SemanticVersion v = KILN_TRY(catalog::SemanticVersion::parse(version));
  return image::ImageName{name, v};
}

void print_image(const store::ImageVersion& image) {
  std::printf(
      "%s\t%s\t%s\n", image.str().c_str(), image.arn.c_str(), image.manifest.digest.str().c_str());
}

int report(const Error& error) {
  std::fprintf(stderr, "kiln: error: %s\n", error.message.c_str());
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      return 2;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kCancelled:
      return 130;
    default:
      return 1;
  }
}

int for_each_instance(const std::vector<std::string>& ids,
                      const std::function<Status(const std::string&)>& fn) {
  int code = 0;
  for (const std::string& id : ids) {
    Status done = fn(id);
    if (!done) {
      int c = report(done.error());
      code = code == 0 ? c : code;
    } else {
      std::printf("%s\n", id.c_str());
    }
  }
  return code;
}

}  // namespace kiln::cli
