#include "kiln/catalog/version.hpp"

#include <array>

#include "kiln/base/strings.hpp"

namespace kiln::catalog {
namespace {

// A node of up to ten decimal digits (enough for 2^30-1, few enough not to overflow).
std::optional<uint32_t> parse_node(std::string_view text) {
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > kMaxVersionNode) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

Error invalid_version(std::string_view text, std::string_view rule) {
  return make_error(ErrorCode::kInvalidArgument, "invalid version \"{}\": {}", text, rule);
}

constexpr std::string_view kNodeRule =
    "expected <major>.<minor>.<patch>, each a number from 0 to 1073741823";

// The three dot-separated parts of a version, or nothing when there are not three.
std::optional<std::array<std::string, 3>> three_nodes(std::string_view text) {
  std::vector<std::string> parts = split(text, '.');
  if (parts.size() != 3) {
    return std::nullopt;
  }
  return std::array<std::string, 3>{parts[0], parts[1], parts[2]};
}

std::string node_str(const std::optional<uint32_t>& node) {
  return node ? std::to_string(*node) : "x";
}

}  // namespace

Result<SemanticVersion> SemanticVersion::parse(std::string_view text) {
  auto nodes = three_nodes(text);
  if (!nodes) {
    return invalid_version(text, kNodeRule);
  }
  std::optional<uint32_t> ma = parse_node((*nodes)[0]);
  std::optional<uint32_t> mi = parse_node((*nodes)[1]);
  std::optional<uint32_t> pa = parse_node((*nodes)[2]);
  if (!ma || !mi || !pa) {
    return invalid_version(text, kNodeRule);
  }
  return SemanticVersion{*ma, *mi, *pa};
}

std::string SemanticVersion::str() const {
  return fmt::format("{}.{}.{}", major, minor, patch);
}

Result<uint32_t> parse_build_number(std::string_view text) {
  std::optional<uint32_t> build = parse_node(text);
  if (!build || *build == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid build number \"{}\": expected a number from 1 to 1073741823",
                      text);
  }
  return *build;
}

Result<BuildVersion> BuildVersion::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return invalid_version(text, "expected <major>.<minor>.<patch>/<build>");
  }
  SemanticVersion version = KILN_TRY(SemanticVersion::parse(text.substr(0, slash)));
  uint32_t build = KILN_TRY(parse_build_number(text.substr(slash + 1)));
  return BuildVersion{version, build};
}

std::string BuildVersion::str() const {
  return fmt::format("{}/{}", version.str(), build);
}

VersionFilter VersionFilter::exact(const SemanticVersion& version) {
  VersionFilter filter;
  filter.major_ = version.major;
  filter.minor_ = version.minor;
  filter.patch_ = version.patch;
  return filter;
}

Result<VersionFilter> VersionFilter::parse(std::string_view text) {
  auto nodes = three_nodes(text);
  if (!nodes) {
    return invalid_version(text, "expected <major>.<minor>.<patch>, where a node may be x");
  }
  std::array<std::optional<uint32_t>, 3> values;
  bool wildcard_seen = false;
  for (size_t i = 0; i < 3; ++i) {
    const std::string& node = (*nodes)[i];
    if (node == "x") {
      wildcard_seen = true;
      continue;
    }
    if (wildcard_seen) {
      return invalid_version(text, "every node right of the first x must be x (as in 1.x.x)");
    }
    values[i] = parse_node(node);
    if (!values[i]) {
      return invalid_version(text, "each node must be x or a number from 0 to 1073741823");
    }
  }
  VersionFilter filter;
  filter.major_ = values[0];
  filter.minor_ = values[1];
  filter.patch_ = values[2];
  return filter;
}

bool VersionFilter::matches(const SemanticVersion& version) const {
  return (!major_ || *major_ == version.major) && (!minor_ || *minor_ == version.minor) &&
         (!patch_ || *patch_ == version.patch);
}

std::optional<SemanticVersion> VersionFilter::exact_version() const {
  if (!is_exact()) {
    return std::nullopt;
  }
  return SemanticVersion{*major_, *minor_, *patch_};
}

std::string VersionFilter::str() const {
  return fmt::format("{}.{}.{}", node_str(major_), node_str(minor_), node_str(patch_));
}

}  // namespace kiln::catalog
