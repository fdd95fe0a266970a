#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"

namespace kiln {

enum class HashAlgorithm { kMd5, kSha1, kSha256, kSha512 };

// Parses "MD5", "sha256", ... (case-insensitive).
std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name);

// Lower-case hex digest of `data`.
std::string hash_hex(HashAlgorithm algorithm, std::string_view data);

// Lower-case hex digest of a file's content, read in chunks.
Result<std::string> hash_file_hex(HashAlgorithm algorithm, const std::filesystem::path& path);

}  // namespace kiln
