// Running kiln-toe in an instance and reading what it reports; resolving parent images.

#include "kiln/build/stage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <ctime>

#include "kiln/base/beneath.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/unique_fd.hpp"

namespace kiln::build {
namespace {

constexpr int kRebootExitCode = 194;
// A run that keeps asking for reboots is broken (kiln-toe also stops a step after 10 in a row).
constexpr int kMaxReboots = 32;

// Managed parent images: what `parentImage: debian-12` bootstraps.
struct ManagedSource {
  std::string_view name;
  std::string_view distribution;
  std::string_view suite;
};
constexpr ManagedSource kManagedSources[] = {
    {"busybox", "busybox", ""},
    {"debian-12", "debian", "bookworm"},
    {"debian-13", "debian", "trixie"},
    {"ubuntu-22.04", "ubuntu", "jammy"},
    {"ubuntu-24.04", "ubuntu", "noble"},
};

const ManagedSource* managed_source(std::string_view name) {
  // AWS's managed images carry an architecture suffix: debian-12-x86 is debian-12.
  for (std::string_view suffix : {"-x86-64", "-x86_64", "-x86"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      name.remove_suffix(suffix.size());
      break;
    }
  }
  for (const ManagedSource& source : kManagedSources) {
    if (source.name == name) {
      return &source;
    }
  }
  return nullptr;
}

// Holds an flock on a file while alive: two builds needing the same managed source bootstrap
// it once.
class FileLock {
 public:
  static Result<FileLock> acquire(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return errno_error(errno, "opening " + path.string());
    }
    UniqueFd owned(fd);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        return errno_error(errno, "locking " + path.string());
      }
    }
    return FileLock(std::move(owned));
  }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

std::string today_version() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  return fmt::format("{}.{}.{}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
}

std::string_view without_timestamp(std::string_view line) {
  // "2021-08-27 00:20:31.123 " is 24 characters.
  if (line.size() > 24 && line[4] == '-' && line[7] == '-' && line[10] == ' ' && line[13] == ':' &&
      line[23] == ' ') {
    return line.substr(24);
  }
  return {};
}

// A failed run's detailedoutput.json is read into memory up to this.
constexpr uint64_t kMaxDetailedOutput = uint64_t{64} << 20;
// Notes about what was not copied out of an instance, at most this many per copy.
constexpr size_t kMaxSkippedNotes = 10;

// Copies <exchange>/<stage> (what kiln-toe wrote in the instance) into <log folder>/<stage>.
void copy_stage_logs(const ToeStage& stage, const std::function<void(Event)>& emit) {
  if (stage.exchange.empty()) {
    return;
  }
  auto note = [&](const std::string& text) {
    Event event;
    event.text = text;
    emit(event);
  };
  Result<UniqueFd> exchange = open_directory(stage.exchange);
  if (!exchange) {
    note("copying the " + stage.name + " logs: " + exchange.error().message);
    return;
  }
  Result<CopyOutReport> copied =
      copy_out_beneath(exchange->get(), stage.name, stage.log_folder / stage.name);
  if (!copied) {
    if (copied.error().code != ErrorCode::kNotFound) {
      note("copying the " + stage.name + " logs: " + copied.error().message);
    }
    return;
  }
  for (size_t i = 0; i < copied->skipped.size() && i < kMaxSkippedNotes; ++i) {
    note("not copied from the instance: " + copied->skipped[i]);
  }
  if (copied->skipped.size() > kMaxSkippedNotes) {
    note(fmt::format("not copied from the instance: {} more",
                     copied->skipped.size() - kMaxSkippedNotes));
  }
}

}  // namespace

bool BuildComponent::has_phase(std::string_view name) const {
  return std::find(phases.begin(), phases.end(), name) != phases.end();
}

std::vector<std::string> document_phases(const std::string& data) {
  std::vector<std::string> names;
  try {
    YAML::Node root = YAML::Load(data);
    if (root.IsMap() && root["phases"] && root["phases"].IsSequence()) {
      for (const YAML::Node& phase : root["phases"]) {
        if (phase.IsMap() && phase["name"] && phase["name"].IsScalar()) {
          names.push_back(phase["name"].as<std::string>());
        }
      }
    }
  } catch (const YAML::Exception&) {
    names.clear();
  }
  return names;
}

Result<store::ImageVersion> resolve_parent(image::Images& images,
                                           const fs::path& root,
                                           const std::string& parent,
                                           const std::function<void(const std::string&)>& note,
                                           bool bootstrap) {
  std::string name = parent;
  if (parent.starts_with("arn:")) {
    catalog::ImageBuilderArn arn = KILN_TRY(catalog::ImageBuilderArn::parse(parent));
    if (arn.account != "aws") {
      return images.store().resolve(parent);
    }
    name = arn.name;  // an Amazon-managed image: one of kiln's managed sources, if any
  } else if (parent.find('/') != std::string::npos) {
    return images.store().resolve(parent);
  }
  const ManagedSource* source = managed_source(name);
  if (source == nullptr) {
    Result<store::ImageVersion> found = images.store().resolve(name + "/x.x.x");
    if (found || parent.starts_with("arn:")) {
      return found;
    }
    std::vector<std::string> known;
    for (const ManagedSource& s : kManagedSources) {
      known.emplace_back(s.name);
    }
    return make_error(ErrorCode::kNotFound,
                      "parent image {}: no image of that name in the store, and not a managed "
                      "source ({})",
                      parent,
                      join(known, ", "));
  }
  std::string image_name(source->name);
  if (!bootstrap) {
    return images.store().resolve(image_name + "/x.x.x");
  }
  FileLock lock = KILN_TRY(FileLock::acquire(root / "locks" / ("bootstrap-" + image_name)));
  if (Result<store::ImageVersion> cached = images.store().resolve(image_name + "/x.x.x")) {
    return cached;
  }
  note(fmt::format("bootstrapping the managed parent image {} (once; later builds reuse it)",
                   image_name));
  image::BootstrapOptions options;
  options.distribution = std::string(source->distribution);
  options.suite = std::string(source->suite);
  catalog::SemanticVersion version = KILN_TRY(catalog::SemanticVersion::parse(today_version()));
  return images.bootstrap(options, image::ImageName{image_name, version});
}

std::string tail_lines(std::string_view text, size_t lines) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  size_t pos = text.size();
  for (size_t n = 0; n < lines && pos != std::string_view::npos && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
  }
  if (pos == std::string_view::npos) {
    return std::string(text);
  }
  return std::string(text.substr(pos == 0 ? 0 : pos + 1));
}

bool parse_progress_line(std::string_view line, Event& event, std::string& document) {
  std::string_view text = without_timestamp(line);
  if (text.starts_with("Document ")) {
    document = std::string(text.substr(9));
    event.kind = Event::Kind::kNote;
    return false;
  }
  if (text.starts_with("Phase ")) {
    event.phase = std::string(text.substr(6));
    return false;
  }
  if (!text.starts_with("Step ")) {
    return false;
  }
  text.remove_prefix(5);
  event.kind = Event::Kind::kStep;
  // "Install (ExecuteBash)" when it begins, "Install: success[: message]" when it ends.
  size_t colon = text.find(": ");
  size_t paren = text.rfind(" (");
  if (colon != std::string_view::npos && (paren == std::string_view::npos || colon < paren)) {
    event.step = std::string(text.substr(0, colon));
    std::string_view rest = text.substr(colon + 2);
    size_t more = rest.find(": ");
    event.step_status = std::string(rest.substr(0, more));
    event.text = more == std::string_view::npos ? "" : std::string(rest.substr(more + 2));
  } else {
    event.step = std::string(paren == std::string_view::npos ? text : text.substr(0, paren));
    event.step_status.clear();
    event.text.clear();
  }
  return true;
}

std::string failure_reason(const Json& detailed_output,
                           const std::vector<std::pair<std::string, std::string>>& components) {
  if (!detailed_output.is_object() || !detailed_output.contains("documents")) {
    return {};
  }
  for (const Json& document : detailed_output["documents"]) {
    std::string path = document.value("filePath", "");
    std::string component = path;
    for (const auto& [file, arn] : components) {
      if (file == path) {
        component = arn;
      }
    }
    for (const Json& phase : document.value("phases", Json::array())) {
      for (const Json& step : phase.value("steps", Json::array())) {
        std::string status = step.value("status", "");
        if (status == "failed" || status == "cancelled") {
          return fmt::format("Component {} failed in phase {}, step {}: {}",
                             component,
                             phase.value("name", ""),
                             step.value("name", ""),
                             step.value("failureMessage", status));
        }
      }
    }
    if (document.value("status", "") == "failed") {
      return fmt::format(
          "Component {} failed: {}", component, document.value("failureMessage", ""));
    }
  }
  return {};
}

Result<ToeStageResult> run_toe_stage(instance::Instances& instances,
                                     const std::string& instance_id,
                                     const ToeStage& stage,
                                     const std::vector<BuildComponent>& components,
                                     std::atomic<bool>* cancel,
                                     const std::function<void(Event)>& emit) {
  const std::string kiln_dir(kInstanceKilnDir);
  // One run over every component with one of the phases, each document with its parameters; the
  // run config lives with the documents (read-only in the instance).
  Json documents = Json::array();
  std::vector<std::pair<std::string, std::string>> paths;  // in the instance -> component ARN
  for (const BuildComponent& c : components) {
    bool selected = std::any_of(stage.phases.begin(),
                                stage.phases.end(),
                                [&](const std::string& p) { return c.has_phase(p); });
    if (!selected) {
      continue;
    }
    std::string path = kiln_dir + "/documents/" + c.file;
    Json parameters = Json::array();
    for (const Json& p : c.parameters) {
      parameters.push_back(
          Json{{"name", p.value("name", "")}, {"value", p.value("value", Json::array())}});
    }
    documents.push_back(Json{{"path", path}, {"parameters", parameters}});
    paths.emplace_back(path, c.arn);
  }
  ToeStageResult result;
  if (documents.empty()) {
    result.ok = true;
    return result;
  }
  Json config{{"documents", documents},
              {"phases", join(stage.phases, ",")},
              {"logDirectory", kiln_dir + "/logs/" + stage.name},
              {"trace", stage.trace}};
  fs::path config_file = stage.log_folder / "documents" / (stage.name + "-run.json");
  KILN_TRY(write_file(config_file, config.dump(2) + "\n"));
  std::error_code ec;
  fs::create_directories(stage.log_folder / stage.name, ec);

  std::vector<std::string> command{kiln_dir + "/toe/bin/kiln-toe",
                                   "run",
                                   "--config",
                                   kiln_dir + "/documents/" + config_file.filename().string()};
  while (true) {
    std::string pending;  // stderr not yet ending in a newline
    std::string document;
    std::string phase;
    auto on_output = [&](os::OutputStream stream, std::string_view chunk) {
      if (stream != os::OutputStream::kStderr) {
        return;
      }
      pending.append(chunk);
      size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, newline);
        pending.erase(0, newline + 1);
        Event event;
        event.phase = phase;
        if (parse_progress_line(line, event, document)) {
          for (const auto& [path, arn] : paths) {
            if (path == document) {
              event.component = arn;
            }
          }
          emit(event);
        } else if (!event.phase.empty() && event.phase != phase) {
          phase = event.phase;
        } else if (without_timestamp(line).empty()) {
          Event output;
          output.kind = Event::Kind::kOutput;
          output.text = line + "\n";
          emit(output);
        }
      }
    };
    Result<os::ProcessResult> ran =
        instances.run(instance_id, command, std::nullopt, cancel, on_output);
    copy_stage_logs(stage, emit);
    if (!ran) {
      return ran.error();
    }
    const os::ProcessResult& run = *ran;
    if (run.cancelled || (cancel != nullptr && cancel->load())) {
      result.cancelled = true;
      return result;
    }
    if (run.signal == 0 && run.exit_code == 0) {
      result.ok = true;
      return result;
    }
    if (run.signal == 0 && run.exit_code == kRebootExitCode) {
      if (++result.reboots > kMaxReboots) {
        result.reason =
            fmt::format("the {} stage asked for more than {} reboots", stage.name, kMaxReboots);
        return result;
      }
      Event note;
      note.text = fmt::format("rebooting the instance (reboot {}) and resuming", result.reboots);
      emit(note);
      KILN_TRY_CTX(instances.reboot(instance_id), "rebooting the instance");
      continue;
    }
    // A failed run: the step's own message from detailedoutput.json is the real error. The
    // summary comes from inside the instance: its logUrl may only name a folder of this stage's
    // copy, read without following a link.
    Json summary = Json::parse(run.stdout_text, nullptr, false);
    if (summary.is_object()) {
      auto text_member = [&](const char* name) {
        return summary.contains(name) && summary[name].is_string()
                   ? summary[name].get<std::string>()
                   : std::string();
      };
      std::string log_url = text_member("logUrl");
      std::string prefix = kiln_dir + "/logs/" + stage.name + "/";
      std::string folder = log_url.starts_with(prefix) ? log_url.substr(prefix.size()) : "";
      if (!folder.empty() && folder.find('/') == std::string::npos &&
          check_plain_relative(folder, "logUrl")) {
        if (Result<UniqueFd> copy = open_directory(stage.log_folder / stage.name)) {
          if (Result<std::string> text = read_file_beneath(
                  copy->get(), fs::path(folder) / "detailedoutput.json", kMaxDetailedOutput)) {
            result.reason = failure_reason(Json::parse(*text, nullptr, false), paths);
          }
        }
      }
      if (result.reason.empty()) {
        result.reason = text_member("failureMessage");
      }
    }
    if (result.reason.empty()) {
      std::string code = run.signal != 0 ? fmt::format("signal {}", run.signal)
                                         : fmt::format("exit code {}", run.exit_code);
      result.reason = fmt::format("kiln-toe failed in the {} stage ({}): {}",
                                  stage.name,
                                  code,
                                  tail_lines(run.stderr_text, 10));
    }
    return result;
  }
}

Result<ToeBundle> find_toe_bundle(const fs::path& build_tree_bundle) {
  std::vector<fs::path> prefixes;
  if (const char* env = std::getenv("KILN_TOE_BUNDLE"); env != nullptr && *env != '\0') {
    prefixes.emplace_back(env);
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    prefixes.push_back(self.parent_path().parent_path());
  }
  if (!build_tree_bundle.empty()) {
    prefixes.push_back(build_tree_bundle);
  }
  std::vector<std::string> looked;
  for (const fs::path& prefix : prefixes) {
    ToeBundle bundle{prefix / "bin" / "kiln-toe", prefix / "libexec" / "kiln"};
    if (fs::exists(bundle.launcher, ec) && fs::exists(bundle.libexec / "kiln-toe", ec) &&
        fs::exists(bundle.libexec / "lib", ec)) {
      return bundle;
    }
    looked.push_back(prefix.string());
  }
  return make_error(ErrorCode::kNotFound,
                    "kiln-toe's bundle (bin/kiln-toe and libexec/kiln/) not found in {}: install "
                    "kiln (cmake --install) or set KILN_TOE_BUNDLE",
                    join(looked, ", "));
}

fs::path find_share_dir(const fs::path& source_share) {
  if (const char* env = std::getenv("KILN_SHARE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path installed = self.parent_path().parent_path() / "share" / "kiln";
  if (!ec && fs::exists(installed / "sanitize.sh", ec)) {
    return installed;
  }
  return source_share;
}

}  // namespace kiln::build
