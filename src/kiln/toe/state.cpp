#include "kiln/toe/state.hpp"

#include <system_error>

#include "kiln/base/file.hpp"

namespace kiln::toe {
namespace {

constexpr const char* kStateFile = "kiln-toe-state.json";
constexpr int kStateVersion = 1;

std::optional<document::Branch> branch_from(const std::string& name) {
  if (name == "Execute") {
    return document::Branch::kExecute;
  }
  if (name == "Skip") {
    return document::Branch::kSkip;
  }
  if (name == "Abort") {
    return document::Branch::kAbort;
  }
  return std::nullopt;
}

std::string branch_to(document::Branch b) {
  switch (b) {
    case document::Branch::kExecute:
      return "Execute";
    case document::Branch::kSkip:
      return "Skip";
    case document::Branch::kAbort:
      return "Abort";
  }
  return "Execute";
}

}  // namespace

Result<std::optional<SavedState>> load_state(const std::filesystem::path& dir) {
  std::filesystem::path file = dir / kStateFile;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return std::optional<SavedState>();
  }
  std::string text = KILN_TRY(read_file(file));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != kStateVersion) {
    return make_error(ErrorCode::kCorruption,
                      "{} is not a kiln-toe state file; remove it to start afresh",
                      file.string());
  }
  SavedState state;
  // nlohmann::json throws when a field has another type than expected: a damaged file.
  try {
    state.fingerprint = j.value("fingerprint", "");
    state.log_folder = j.value("logFolder", "");
    state.run = run_from_state_json(j.value("run", Json::object()));
    if (j.contains("conditionBranch") && j["conditionBranch"].is_string()) {
      state.condition_branch = branch_from(j["conditionBranch"].get<std::string>());
    }
    state.reboot_count = j.value("rebootCount", 0);
  } catch (const Json::exception& e) {
    return make_error(ErrorCode::kCorruption,
                      "{} is damaged ({}); remove it to start afresh",
                      file.string(),
                      e.what());
  }
  return std::optional<SavedState>(std::move(state));
}

Status save_state(const std::filesystem::path& dir, const SavedState& state) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(
        ErrorCode::kIo, "creating state directory {}: {}", dir.string(), ec.message());
  }
  Json j{{"version", kStateVersion},
         {"fingerprint", state.fingerprint},
         {"logFolder", state.log_folder},
         {"run", to_state_json(state.run)},
         {"rebootCount", state.reboot_count}};
  if (state.condition_branch) {
    j["conditionBranch"] = branch_to(*state.condition_branch);
  }
  return write_file_atomic(dir / kStateFile, json_text(j, 2), 0600);
}

Status clear_state(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove(dir / kStateFile, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "removing {}: {}", (dir / kStateFile).string(), ec.message());
  }
  return ok_status();
}

}  // namespace kiln::toe
