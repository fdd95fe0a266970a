#pragma once

// The names inside layer archives: the checks every untrusted entry name passes before anything
// is done with it, and OCI whiteout names. Pure functions, no I/O.

#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

namespace kiln::store {

// Checks an archive entry name (or a hardlink's target) and returns it in canonical form:
// components joined by single "/", no "." components, no leading "./", no trailing "/". The root
// (".", "./", "") becomes "". Refused with kInvalidArgument and a message naming the entry: an
// absolute name and any ".." component (even one that would stay inside, as "a/../b").
Result<std::string> clean_entry_path(std::string_view name);

// A canonical path split at its last "/": "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
struct EntryPath {
  std::string_view parent;
  std::string_view base;
};
EntryPath split_entry_path(std::string_view canonical);

// "entry \"<name>\": <what>" as kInvalidArgument: every refusal names its entry the same way,
// quoted and escaped (a hostile name may hold control characters).
Error entry_error(std::string_view name, std::string_view what);

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
inline constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";

enum class WhiteoutKind {
  kNone,     // an ordinary name
  kRemove,   // ".wh.<name>": <name> of the lower layers is deleted
  kOpaque,   // ".wh..wh..opq": the lower content of the directory is hidden
  kMeta,     // ".wh..wh.<other>": AUFS bookkeeping, ignored
  kInvalid,  // ".wh.", ".wh.." or ".wh...": would name the directory itself or its parent
};

struct Whiteout {
  WhiteoutKind kind = WhiteoutKind::kNone;
  std::string_view target;  // for kRemove: the base name it deletes
};

// Classifies the base name of an entry.
Whiteout classify_whiteout(std::string_view base);

}  // namespace kiln::store
