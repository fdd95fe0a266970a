#pragma once

// What every `kiln` verb works with: the root folder and the parts of kiln over it, opened on
// first use.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/image/images.hpp"
#include "kiln/instance/instance.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::cli {

struct Context {
  Context(std::filesystem::path root_dir, instance::Helpers helper_programs)
      : root(std::move(root_dir)), helpers(std::move(helper_programs)) {}

  std::filesystem::path root;  // --root, $KILN_ROOT, or the default for this user
  instance::Helpers helpers;
  store::LayerFormat layer_format = store::LayerFormat::kZstd;  // --layer-compression
  // Opening the state recovers the builds whose builder died (build/recovery.hpp); kiln serve
  // turns it off and recovers in the background instead.
  bool recover_builds = true;

  instance::Instances instances() const { return instance::Instances(root, helpers); }
  // The images under the root, opened (and the store created) on first use; when the root has
  // a catalog, it is opened too, for recovery.
  Result<image::Images*> images();
  // The catalog of resources, <root>/state.db, for the account of $KILN_REGION and
  // $KILN_ACCOUNT_ID, opened on first use with the managed components synced into it and the
  // builds whose builder died recovered.
  Result<state::Catalog*> catalog();

 private:
  void recover();
  bool recovered_ = false;
  std::unique_ptr<image::Images> images_;
  SystemClock clock_;
  std::unique_ptr<state::Catalog> catalog_;
};

// The folder of the managed components (with its managed.json): $KILN_COMPONENTS_DIR, else
// <exe dir>/../share/kiln/components when kiln is installed, else the source tree's
// components/; nullopt when none exists.
std::optional<std::filesystem::path> managed_components_dir();

// "name" and "x.y.z" as an image name, checked.
Result<image::ImageName> image_name(const std::string& name, const std::string& version);

// Prints an image version: its ref, ARN and manifest digest.
void print_image(const store::ImageVersion& image);

// The root folder: `flag` if given, else $KILN_ROOT, else /var/lib/kiln for root and
// $XDG_DATA_HOME/kiln (~/.local/share/kiln) for other users.
std::filesystem::path resolve_root(const std::string& flag);

// The log root, the only folder local log folders may be in (state/log_location.hpp): `flag`
// (kiln serve --log-root) if given, else $KILN_LOG_ROOT, else <root>/logs; absolute and normal.
std::filesystem::path resolve_log_root(const std::string& flag, const std::filesystem::path& root);

// Prints "kiln: error: <message>" on stderr and returns the exit code for `error`.
int report(const Error& error);

// Runs `fn` for every id, printing each id done; returns the exit code of the first failure (the
// others still run).
int for_each_instance(const std::vector<std::string>& ids,
                      const std::function<Status(const std::string&)>& fn);

}  // namespace kiln::cli
