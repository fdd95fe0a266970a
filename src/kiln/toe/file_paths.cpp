#include "kiln/toe/file_paths.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <string>

namespace kiln::toe {
namespace {

namespace fs = std::filesystem;

// Every entry below `root` (not `root` itself), parents before children, never following
// symlinks; stops with an error when the step is interrupted.
template <typename Iterator>
Result<std::vector<fs::directory_entry>> walk(const fs::path& root, const ActionContext& context) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  for (Iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    KILN_TRY(check_interrupted(context));
    out.push_back(*it);
  }
  if (ec) {
    return fs_error(ec, fmt::format("listing {}", root.string()));
  }
  return out;
}

}  // namespace

Error fs_error(const std::error_code& ec, std::string_view what) {
  return errno_error(ec.value(), what);
}

fs::path without_trailing_slashes(std::string_view raw) {
  while (raw.size() > 1 && raw.back() == '/') {
    raw.remove_suffix(1);
  }
  return fs::path(raw);
}

Result<fs::file_type> type_of(const fs::path& path, bool follow) {
  std::error_code ec;
  fs::file_status status = follow ? fs::status(path, ec) : fs::symlink_status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return fs::file_type::not_found;
  }
  if (ec) {
    return fs_error(ec, fmt::format("inspecting {}", path.string()));
  }
  return status.type();
}

Status require_folder(const fs::path& path) {
  fs::file_type type = KILN_TRY(type_of(path, true));
  if (type == fs::file_type::not_found) {
    return make_error(ErrorCode::kNotFound, "folder {} does not exist", path.string());
  }
  if (type != fs::file_type::directory) {
    return make_error(ErrorCode::kInvalidArgument, "{} is not a folder", path.string());
  }
  return ok_status();
}

Status require_file(const fs::path& path) {
  fs::file_type type = KILN_TRY(type_of(path, true));
  if (type == fs::file_type::not_found) {
    return make_error(ErrorCode::kNotFound, "file {} does not exist", path.string());
  }
  if (type != fs::file_type::regular) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{} is {}",
                      path.string(),
                      type == fs::file_type::directory ? "a folder" : "not a regular file");
  }
  return ok_status();
}

Status make_parents(const fs::path& path) {
  fs::path parent = path.parent_path();
  std::error_code ec;
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
  }
  if (ec) {
    return fs_error(ec, fmt::format("creating folder {}", parent.string()));
  }
  return ok_status();
}

bool has_wildcard(std::string_view raw) {
  return fs::path(raw).filename().string().find('*') != std::string::npos;
}

bool name_matches(const std::string& pattern, const fs::path& path) {
  return ::fnmatch(pattern.c_str(), path.filename().c_str(), 0) == 0;
}

Result<std::vector<fs::directory_entry>> list_entries(const fs::path& root,
                                                      bool recursive,
                                                      const ActionContext& context) {
  return recursive ? walk<fs::recursive_directory_iterator>(root, context)
                   : walk<fs::directory_iterator>(root, context);
}

bool is_folder(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_directory(ec);  // follows symlinks: a link to a folder counts as one
}

Result<std::vector<fs::path>> expand_source(std::string_view raw, const ActionContext& context) {
  fs::path path = without_trailing_slashes(raw);
  if (path.parent_path().string().find('*') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: wildcard '*' is only allowed in the last path component",
                      raw);
  }
  if (!has_wildcard(raw)) {
    return std::vector<fs::path>{path};
  }
  fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  KILN_TRY(require_folder(folder));
  std::vector<fs::path> out;
  for (const fs::directory_entry& entry : KILN_TRY(list_entries(folder, false, context))) {
    if (!is_folder(entry) && name_matches(path.filename().string(), entry.path())) {
      out.push_back(path.parent_path() / entry.path().filename());
    }
  }
  if (out.empty()) {
    return make_error(ErrorCode::kNotFound, "no file matches {}", raw);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status refuse_nesting(const fs::path& source, const fs::path& target) {
  std::error_code source_ec;
  std::error_code target_ec;
  fs::path s = fs::weakly_canonical(source, source_ec);
  fs::path t = fs::weakly_canonical(target, target_ec);
  if (source_ec || target_ec) {
    return fs_error(source_ec ? source_ec : target_ec,
                    fmt::format("resolving {}", source_ec ? source.string() : target.string()));
  }
  auto [s_end, t_end] = std::mismatch(s.begin(), s.end(), t.begin(), t.end());
  if (s_end == s.end()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "destination {} is {} source {}",
                      target.string(),
                      t_end == t.end() ? "the same as" : "inside",
                      source.string());
  }
  return ok_status();
}

}  // namespace kiln::toe
