// Local log folders confined to the operator's log root (log_location.hpp).

#include "kiln/state/log_location.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "kiln/state/request.hpp"

namespace kiln::state {
namespace fs = std::filesystem;

std::optional<std::string> local_log_folder(const Json& infrastructure) {
  if (!infrastructure.is_object() || !infrastructure.contains("logging") ||
      !infrastructure["logging"].is_object()) {
    return std::nullopt;
  }
  const Json& logging = infrastructure["logging"];
  if (!logging.contains("s3Logs") || !logging["s3Logs"].is_object()) {
    return std::nullopt;
  }
  const Json& s3 = logging["s3Logs"];
  auto text = [&](const char* member) {
    return s3.contains(member) && s3[member].is_string() ? s3[member].get<std::string>()
                                                         : std::string();
  };
  std::string prefix = text("s3KeyPrefix");
  if (!text("s3BucketName").empty() || !prefix.starts_with("/")) {
    return std::nullopt;
  }
  return prefix;
}

Result<fs::path> log_folder_in_root(const std::string& folder, const fs::path& root) {
  const std::string member = "logging.s3Logs.s3KeyPrefix";
  std::optional<std::vector<std::string>> names = request::plain_absolute_names(folder);
  if (!names) {
    return request::invalid(member,
                            fmt::format("\"{}\": a local log folder is an absolute path of plain "
                                        "names, without empty, '.' or '..' parts",
                                        folder));
  }
  std::optional<std::vector<std::string>> root_names = request::plain_absolute_names(root.string());
  if (!root_names) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the log root {} is not an absolute, normal path",
                      root.string());
  }
  bool inside = names->size() >= root_names->size() &&
                std::equal(root_names->begin(), root_names->end(), names->begin());
  if (!inside) {
    return request::invalid(
        member,
        fmt::format("\"{}\": a local log folder must be in the log root {} (kiln serve "
                    "--log-root, KILN_LOG_ROOT); to upload logs, give s3BucketName",
                    folder,
                    root.string()));
  }
  fs::path relative;
  fs::path walked = root;
  bool exists = true;  // what does not exist yet is made by the build, link-free
  for (size_t i = root_names->size(); i < names->size(); ++i) {
    relative /= (*names)[i];
    walked /= (*names)[i];
    struct stat st {};
    if (!exists || ::lstat(walked.c_str(), &st) != 0) {
      exists = false;
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      return request::invalid(
          member,
          fmt::format("\"{}\": {} is a symbolic link (log folders are never reached through one)",
                      folder,
                      walked.string()));
    }
    if (!S_ISDIR(st.st_mode)) {
      return request::invalid(member,
                              fmt::format("\"{}\": {} is not a folder", folder, walked.string()));
    }
  }
  return relative;
}

}  // namespace kiln::state
