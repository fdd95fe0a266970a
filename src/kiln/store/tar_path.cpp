#include "kiln/store/tar_path.hpp"

#include <fmt/format.h>

namespace kiln::store {

Result<std::string> clean_entry_path(std::string_view name) {
  if (!name.empty() && name.front() == '/') {
    return entry_error(name, "absolute path");
  }
  std::string out;
  out.reserve(name.size());
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t end = name.find('/', pos);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    std::string_view component = name.substr(pos, end - pos);
    pos = end + 1;
    if (component.empty() || component == ".") {
      continue;
    }
    if (component == "..") {
      return entry_error(name, "path has a \"..\" component");
    }
    if (!out.empty()) {
      out.push_back('/');
    }
    out.append(component);
  }
  return out;
}

EntryPath split_entry_path(std::string_view canonical) {
  size_t slash = canonical.rfind('/');
  if (slash == std::string_view::npos) {
    return {std::string_view(), canonical};
  }
  return {canonical.substr(0, slash), canonical.substr(slash + 1)};
}

Error entry_error(std::string_view name, std::string_view what) {
  return Error{ErrorCode::kInvalidArgument, fmt::format("entry {:?}: {}", name, what)};
}

Whiteout classify_whiteout(std::string_view base) {
  if (base.substr(0, kWhiteoutPrefix.size()) != kWhiteoutPrefix) {
    return {};
  }
  if (base == kOpaqueWhiteout) {
    return {WhiteoutKind::kOpaque, {}};
  }
  if (base.substr(0, kWhiteoutMetaPrefix.size()) == kWhiteoutMetaPrefix) {
    return {WhiteoutKind::kMeta, {}};
  }
  std::string_view target = base.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..") {
    return {WhiteoutKind::kInvalid, {}};
  }
  return {WhiteoutKind::kRemove, target};
}

}  // namespace kiln::store
