#pragma once

// Where a build's logs go on the host (docs/build.md, "Logs"). An infrastructure configuration
// names a local log folder by logging.s3Logs.s3KeyPrefix holding an absolute path with no
// s3BucketName; such a folder must be the operator's log root or a folder in it (kiln serve
// --log-root, $KILN_LOG_ROOT, default <root>/logs). With a bucket, s3KeyPrefix is an S3 key and
// never a host path, whatever it starts with.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kiln/base/result.hpp"

namespace kiln::state {

using Json = nlohmann::ordered_json;

// The local log folder an infrastructure configuration (or its `logging` member's parent object)
// asks for: s3KeyPrefix when it starts with '/' and s3BucketName is empty or absent; nullopt
// when it asks for none (the log root itself is used).
std::optional<std::string> local_log_folder(const Json& infrastructure);

// Checks a local log folder against the log root `root` (absolute): it must be an absolute path of
// plain names (no empty, '.' or '..' part; one trailing '/' is fine) equal to `root` or below it,
// and no part of it below `root` that exists may be a symbolic link. Returns it relative to
// `root` ("" for the root itself); kInvalidArgument saying why otherwise.
Result<std::filesystem::path> log_folder_in_root(const std::string& folder,
                                                 const std::filesystem::path& root);

}  // namespace kiln::state
