#pragma once

// Image Builder's semantic versions (reference: aws-imagebuilder.md 3.1).
//
//   SemanticVersion  "1.2.3": three nodes, each 0..2^30-1.
//   BuildVersion     "1.2.3/4": a version plus the build number the service assigns (1, 2, ...).
//   VersionFilter    "1.2.x", "1.x.x", "x.x.x" or an exact "1.2.3": `x` is a wildcard and every
//                    node right of the first `x` must be `x` ("x.2.x" and "1.x.8" are invalid).
//
// Plain values: copyable, comparable, no I/O; parse errors are kInvalidArgument naming the text.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

namespace kiln::catalog {

// The largest value of a version node or a build number.
inline constexpr uint32_t kMaxVersionNode = (1u << 30) - 1;

struct SemanticVersion {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t patch = 0;

  // Parses "<major>.<minor>.<patch>" (decimal digits, each node at most kMaxVersionNode).
  static Result<SemanticVersion> parse(std::string_view text);
  // "1.2.3" (no leading zeros, whatever the parsed text had).
  std::string str() const;

  auto operator<=>(const SemanticVersion&) const = default;
};

struct BuildVersion {
  SemanticVersion version;
  uint32_t build = 1;

  // Parses "<major>.<minor>.<patch>/<build>", build in 1..kMaxVersionNode.
  static Result<BuildVersion> parse(std::string_view text);
  // "1.2.3/4".
  std::string str() const;

  auto operator<=>(const BuildVersion&) const = default;
};

// Parses a build number: decimal digits, 1..kMaxVersionNode.
Result<uint32_t> parse_build_number(std::string_view text);

// A version with optional `x` wildcards. Invariant: no fixed node follows a wildcard.
class VersionFilter {
 public:
  // "x.x.x": matches every version.
  VersionFilter() = default;
  // Matches exactly `version`.
  static VersionFilter exact(const SemanticVersion& version);
  // Parses "1.2.3", "1.2.x", "1.x.x" or "x.x.x"; "x.2.x", "1.x.8", "1.2" are invalid.
  static Result<VersionFilter> parse(std::string_view text);

  bool matches(const SemanticVersion& version) const;
  // The version this filter names when it has no wildcard.
  std::optional<SemanticVersion> exact_version() const;
  bool is_exact() const { return patch_.has_value(); }
  // "1.x.x".
  std::string str() const;

  bool operator==(const VersionFilter&) const = default;

 private:
  std::optional<uint32_t> major_;
  std::optional<uint32_t> minor_;
  std::optional<uint32_t> patch_;
};

}  // namespace kiln::catalog
