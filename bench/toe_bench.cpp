// Benchmarks of kiln-toe (bench/README.md): validation of a 1000-step document, and the per-step
// cost of ExecuteBash and CreateFile steps through the whole runner path, each against a plain
// C++ baseline doing the same OS work. Figures only: nothing here fails on a slow machine.
//
//   kiln_toe_bench [--reps N] [--only validate|bash|file] [--keep]
//
// The things compared in one figure (kiln, its baseline, the empty-document run) are timed in
// turn, round after round: one warm-up round, then N rounds (default 5), so that all of them see
// the same machine load; each figure is a median. Wall-clock time (steady_clock) is what the
// targets bound; CPU time (getrusage, this process and its children) is printed beside it because
// it is far less sensitive to a busy machine. The last line of output is one JSON object with
// every figure.

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/time.hpp"
#include "kiln/document/condition.hpp"
#include "kiln/document/parser.hpp"
#include "kiln/os/process.hpp"
#include "kiln/toe/action.hpp"
#include "kiln/toe/runner.hpp"

extern "C" char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

constexpr int kValidateSteps = 1000;
constexpr int kRunSteps = 200;
constexpr double kValidateTargetMs = 50.0;     // whole document
constexpr double kBashOverheadTargetMs = 2.0;  // per step, above the spawn baseline
constexpr double kFileStepTargetMs = 0.2;      // per step, all in
constexpr const char* kRunPhase = "build";     // the phase the run benchmarks select

struct Options {
  int reps = 5;
  std::string only;   // empty: every benchmark
  bool keep = false;  // keep the temporary folder (documents, logs, files) and print its path
};

// Wall-clock time and CPU time (user + system, of this process and of the children it reaped).
struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

Timing operator-(Timing a, Timing b) {
  return {a.wall_ms - b.wall_ms, a.cpu_ms - b.cpu_ms};
}

// What a figure's target bounds: the whole measurement, the cost per step, or the cost per step
// above the baseline's.
enum class Metric { kTotal, kPerStep, kOverheadPerStep };

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::kTotal:
      return "total";
    case Metric::kPerStep:
      return "per step";
    case Metric::kOverheadPerStep:
      return "overhead/step";
  }
  return "";
}

// One row of the table: `steps` steps through kiln, against a baseline doing the same OS work.
struct Figure {
  std::string name;
  int steps = 0;
  Timing total;     // the measured path (runs: the full run minus the empty-document run)
  Timing baseline;  // the same work without kiln
  Timing fixed;     // runs only: the empty-document run
  Metric metric = Metric::kTotal;
  double target_ms = 0;
  std::string note;  // printed below the table

  double per_step(double ms) const { return ms / steps; }
  double overhead_per_step(double ms, double base_ms) const { return (ms - base_ms) / steps; }
  static double ratio(double ms, double base_ms) { return base_ms > 0 ? ms / base_ms : 0; }
  double checked_ms() const {
    switch (metric) {
      case Metric::kTotal:
        return total.wall_ms;
      case Metric::kPerStep:
        return per_step(total.wall_ms);
      case Metric::kOverheadPerStep:
        return overhead_per_step(total.wall_ms, baseline.wall_ms);
    }
    return 0;
  }
  bool pass() const { return checked_ms() < target_ms; }
};

Figure make_figure(std::string name, int steps, Timing total, Timing baseline, Timing fixed) {
  Figure f;
  f.name = std::move(name);
  f.steps = steps;
  f.total = total;
  f.baseline = baseline;
  f.fixed = fixed;
  return f;
}

[[noreturn]] void die(const std::string& message) {
  fmt::print(stderr, "kiln_toe_bench: {}\n", message);
  std::exit(1);
}

double cpu_ms_now() {
  double ms = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    ::getrusage(who, &usage);
    for (const timeval& tv : {usage.ru_utime, usage.ru_stime}) {
      ms += static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
    }
  }
  return ms;
}

Timing time_once(const std::function<void()>& fn) {
  double cpu_start = cpu_ms_now();
  SteadyClock::time_point start = SteadyClock::now();
  fn();
  double wall = std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
  return {wall, cpu_ms_now() - cpu_start};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Something to time, and what to do (untimed) before each time it runs.
struct Task {
  std::function<void()> run;
  std::function<void()> prepare = {};
};

// Runs the tasks round-robin, one warm-up round and then `reps` rounds, so that every task sees
// the same machine load; returns each task's median wall and CPU time.
std::vector<Timing> measure(const std::vector<Task>& tasks, int reps) {
  std::vector<std::vector<double>> wall(tasks.size());
  std::vector<std::vector<double>> cpu(tasks.size());
  for (int round = 0; round <= reps; ++round) {
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (tasks[i].prepare) {
        tasks[i].prepare();
      }
      Timing t = time_once(tasks[i].run);
      if (round > 0) {
        wall[i].push_back(t.wall_ms);
        cpu[i].push_back(t.cpu_ms);
      }
    }
  }
  std::vector<Timing> out;
  for (size_t i = 0; i < tasks.size(); ++i) {
    out.push_back({median(wall[i]), median(cpu[i])});
  }
  return out;
}

void write_or_die(const fs::path& path, const std::string& text) {
  if (kiln::Status s = kiln::write_file(path, text); !s) {
    die(s.error().message);
  }
}

// ---------------------------------------------------------------------------------------------
// Documents

std::string document_head(std::string_view name) {
  return fmt::format(
      "name: {}\n"
      "description: generated by kiln_toe_bench\n"
      "schemaVersion: 1.0\n"
      "parameters:\n"
      "  - AppName:\n"
      "      type: string\n"
      "      default: kiln\n"
      "constants:\n"
      "  - Greeting:\n"
      "      type: string\n"
      "      value: hello\n"
      "phases:\n",
      name);
}

// A realistic mix for validation, cycling through five kinds of step: a multi-line script with
// parameter references, a file with permissions, a conditional step, a loop, and a step chaining
// the previous script's output.
std::string mixed_step(int i, std::string_view phase) {
  std::string name = fmt::format("step_{:04}", i);
  switch (i % 5) {
    case 0:
      return fmt::format(
          "      - name: {}\n"
          "        action: ExecuteBash\n"
          "        timeoutSeconds: 60\n"
          "        onFailure: Abort\n"
          "        inputs:\n"
          "          commands:\n"
          "            - echo '{{{{ Greeting }}}} from {{{{ AppName }}}}'\n"
          "            - mkdir -p /opt/{{{{ AppName }}}}/{}\n"
          "            - test -d /opt/{{{{ AppName }}}}/{}\n",
          name,
          i,
          i);
    case 1:
      return fmt::format(
          "      - name: {}\n"
          "        action: CreateFile\n"
          "        inputs:\n"
          "          - path: /opt/{{{{ AppName }}}}/{}.conf\n"
          "            content: 'key_{} = value_{}'\n"
          "            permissions: '0644'\n"
          "            overwrite: true\n",
          name,
          i,
          i,
          i);
    case 2:
      return fmt::format(
          "      - name: {}\n"
          "        action: ExecuteBash\n"
          "        if:\n"
          "          stringEquals: '{{{{ AppName }}}}'\n"
          "          value: kiln\n"
          "        inputs:\n"
          "          commands: echo conditional {}\n",
          name,
          i);
    case 3:
      return fmt::format(
          "      - name: {}\n"
          "        action: ExecuteBash\n"
          "        loop:\n"
          "          name: loop_{}\n"
          "          forEach:\n"
          "            - alpha\n"
          "            - beta\n"
          "        inputs:\n"
          "          commands:\n"
          "            - echo '{{{{ loop_{}.value }}}}'\n",
          name,
          i,
          i);
    default:
      return fmt::format(
          "      - name: {}\n"
          "        action: ExecuteBash\n"
          "        inputs:\n"
          "          commands:\n"
          "            - echo '{{{{ {}.step_{:04}.outputs.stdout }}}}'\n",
          name,
          phase,
          i - 4);
  }
}

std::string validation_document(int steps) {
  std::string text = document_head("bench-validate");
  const char* phases[] = {"build", "validate"};
  for (int p = 0; p < 2; ++p) {
    text += fmt::format("  - name: {}\n    steps:\n", phases[p]);
    for (int i = p * steps / 2; i < (p + 1) * steps / 2; ++i) {
      text += mixed_step(i, phases[p]);
    }
  }
  return text;
}

// `steps` steps in phase kRunPhase, each produced by `step(i)`.
std::string run_document(std::string_view name,
                         int steps,
                         const std::function<std::string(int)>& step) {
  std::string text = document_head(name) + fmt::format("  - name: {}\n    steps:\n", kRunPhase);
  for (int i = 0; i < steps; ++i) {
    text += step(i);
  }
  return text;
}

// The least a run can do: its only phase is not selected, so no step runs, but the document is
// loaded and the log folder, document.yaml, detailedoutput.json and chaining.json are written.
std::string empty_document() {
  return document_head("bench-empty") +
         "  - name: unselected\n"
         "    steps:\n"
         "      - name: nothing\n"
         "        action: ExecuteBash\n"
         "        inputs:\n"
         "          commands: 'true'\n";
}

std::string bash_step(int i) {
  return fmt::format(
      "      - name: bash_{:04}\n"
      "        action: ExecuteBash\n"
      "        inputs:\n"
      "          commands:\n"
      "            - 'true'\n",
      i);
}

fs::path file_target(const fs::path& dir, int i) {
  return dir / fmt::format("file_{:04}.txt", i);
}

std::string file_content(int i) {
  return fmt::format("generated by kiln_toe_bench: file {:04}", i);
}

std::string file_step(const fs::path& dir, int i) {
  return fmt::format(
      "      - name: file_{:04}\n"
      "        action: CreateFile\n"
      "        inputs:\n"
      "          - path: {}\n"
      "            content: '{}'\n",
      i,
      file_target(dir, i).string(),
      file_content(i));
}

// ---------------------------------------------------------------------------------------------
// Baselines

// `bash -c true`, `count` times, with posix_spawn + waitpid and nothing else.
void spawn_baseline(const std::string& bash, int count) {
  char arg0[] = "bash";
  char arg1[] = "-c";
  char arg2[] = "true";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  for (int i = 0; i < count; ++i) {
    pid_t pid = -1;
    if (int rc = ::posix_spawn(&pid, bash.c_str(), nullptr, nullptr, argv, environ); rc != 0) {
      die(fmt::format("posix_spawn {}: {}", bash, std::strerror(rc)));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

// The same files as the CreateFile document: open, write, close.
void file_baseline(const fs::path& dir, int count) {
  for (int i = 0; i < count; ++i) {
    std::string content = file_content(i);
    int fd = ::open(file_target(dir, i).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || ::write(fd, content.data(), content.size()) < 0) {
      die(fmt::format("writing {}: {}", file_target(dir, i).string(), std::strerror(errno)));
    }
    ::close(fd);
  }
}

void reset_folder(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) {
    die(fmt::format("creating {}: {}", dir.string(), ec.message()));
  }
}

// ---------------------------------------------------------------------------------------------
// The runner path

class RunBench {
 public:
  explicit RunBench(const fs::path& logs)
      : logs_(logs), runner_(clock_, probe_, kiln::toe::process_env(), nullptr) {}

  // Runner::run on one document with phase kRunPhase selected; dies unless every step succeeded.
  void run(const fs::path& document) {
    kiln::toe::RunOptions options;
    options.documents = {kiln::toe::DocumentSource{document.string(), {}}};
    options.phases = {kRunPhase};
    options.log_directory = logs_;
    options.echo = kiln::toe::RunLog::Echo::kNone;
    kiln::Result<kiln::toe::RunResult> result = runner_.run(options);
    if (!result) {
      die(fmt::format("running {}: {}", document.string(), result.error().message));
    }
    if (result->status != kiln::toe::RunStatus::kSuccess) {
      die(fmt::format("running {}: {}: {}",
                      document.string(),
                      kiln::toe::status_name(result->status),
                      result->failure_message));
    }
  }

 private:
  fs::path logs_;
  kiln::SystemClock clock_;
  kiln::document::SystemProbe probe_;
  kiln::toe::Runner runner_;
};

// ---------------------------------------------------------------------------------------------
// The benchmarks

Figure bench_validate(const fs::path& dir, int reps) {
  std::string text = validation_document(kValidateSteps);
  std::string path = (dir / "validate.yaml").string();
  write_or_die(path, text);  // for --keep: the same document for `kiln-toe validate` or a profiler
  kiln::document::ParseResult check = kiln::document::parse_document(text, path);
  if (!check.document) {
    die("the generated document is invalid: " +
        kiln::document::format_diagnostic(check.diagnostics.front()));
  }
  auto parse = [&] {
    if (!kiln::document::parse_document(text, path).document) {
      die("validation failed");
    }
  };
  // yaml-cpp alone: the YAML syntax pass every validation makes first.
  auto load = [&] {
    if (!YAML::Load(text).IsMap()) {
      die("yaml-cpp returned no map");
    }
  };
  std::vector<Timing> t = measure({{parse}, {load}}, reps);
  Figure f = make_figure("validate", kValidateSteps, t[0], t[1], {});
  f.metric = Metric::kTotal;
  f.target_ms = kValidateTargetMs;
  f.note = fmt::format("parse_document on {} bytes, {} lines, 2 phases; baseline YAML::Load",
                       text.size(),
                       std::count(text.begin(), text.end(), '\n'));
  return f;
}

Figure bench_bash(const fs::path& dir, RunBench& bench, int reps) {
  std::optional<fs::path> bash = kiln::os::find_program("bash");
  if (!bash) {
    die("bash is not on PATH");
  }
  fs::path full = dir / "bash.yaml";
  fs::path empty = dir / "empty.yaml";
  write_or_die(full, run_document("bench-bash", kRunSteps, bash_step));
  write_or_die(empty, empty_document());
  auto run_empty = [&] { bench.run(empty); };
  auto run_full = [&] { bench.run(full); };
  auto spawn = [&] { spawn_baseline(bash->string(), kRunSteps); };
  std::vector<Timing> t = measure({{run_empty}, {run_full}, {spawn}}, reps);
  Figure f = make_figure("execute_bash", kRunSteps, t[1] - t[0], t[2], t[0]);
  f.metric = Metric::kOverheadPerStep;
  f.target_ms = kBashOverheadTargetMs;
  f.note = fmt::format(
      "Runner::run, minus an empty-document run of {:.2f} ms; baseline {} x "
      "posix_spawn+waitpid of `{} -c true`",
      t[0].wall_ms,
      kRunSteps,
      bash->string());
  return f;
}

Figure bench_file(const fs::path& dir, RunBench& bench, int reps) {
  fs::path out = dir / "files";
  fs::path full = dir / "file.yaml";
  fs::path empty = dir / "empty.yaml";
  write_or_die(full,
               run_document("bench-file", kRunSteps, [&](int i) { return file_step(out, i); }));
  write_or_die(empty, empty_document());
  auto fresh = [&] { reset_folder(out); };
  fresh();
  bench.run(full);  // once untimed, to check that the steps really create the files
  for (int i = 0; i < kRunSteps; ++i) {
    if (kiln::read_file(file_target(out, i)).value_or("") != file_content(i)) {
      die(fmt::format("the CreateFile run did not write {}", file_target(out, i).string()));
    }
  }
  auto run_empty = [&] { bench.run(empty); };
  auto run_full = [&] { bench.run(full); };
  auto create = [&] { file_baseline(out, kRunSteps); };
  std::vector<Timing> t = measure({{run_empty}, {run_full, fresh}, {create, fresh}}, reps);
  Figure f = make_figure("create_file", kRunSteps, t[1] - t[0], t[2], t[0]);
  f.metric = Metric::kPerStep;
  f.target_ms = kFileStepTargetMs;
  f.note = fmt::format(
      "Runner::run, minus an empty-document run of {:.2f} ms; baseline {} x "
      "open+write+close of the same files",
      t[0].wall_ms,
      kRunSteps);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Output

void print_table(const std::vector<Figure>& figures) {
  fmt::print("{:<13} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}  {:<22} {}\n",
             "wall clock",
             "steps",
             "total ms",
             "base ms",
             "ms/step",
             "base/step",
             "over/step",
             "ratio",
             "target",
             "result");
  for (const Figure& f : figures) {
    Timing t = f.total;
    Timing b = f.baseline;
    fmt::print("{:<13} {:>5} {:>9.2f} {:>9.2f} {:>9.4f} {:>9.4f} {:>9.4f} {:>6.2f}x  {:<22} {}\n",
               f.name,
               f.steps,
               t.wall_ms,
               b.wall_ms,
               f.per_step(t.wall_ms),
               f.per_step(b.wall_ms),
               f.overhead_per_step(t.wall_ms, b.wall_ms),
               Figure::ratio(t.wall_ms, b.wall_ms),
               fmt::format("{} < {} ms", metric_name(f.metric), f.target_ms),
               f.pass() ? "PASS" : "MISS");
  }
  fmt::print("\n{:<13} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}\n",
             "cpu time",
             "steps",
             "total ms",
             "base ms",
             "ms/step",
             "base/step",
             "over/step",
             "ratio");
  for (const Figure& f : figures) {
    Timing t = f.total;
    Timing b = f.baseline;
    fmt::print("{:<13} {:>5} {:>9.2f} {:>9.2f} {:>9.4f} {:>9.4f} {:>9.4f} {:>6.2f}x\n",
               f.name,
               f.steps,
               t.cpu_ms,
               b.cpu_ms,
               f.per_step(t.cpu_ms),
               f.per_step(b.cpu_ms),
               f.overhead_per_step(t.cpu_ms, b.cpu_ms),
               Figure::ratio(t.cpu_ms, b.cpu_ms));
  }
  fmt::print("\n");
  for (const Figure& f : figures) {
    fmt::print("{}: {}\n", f.name, f.note);
  }
}

// The file system holding `path`, by name for the common ones: the file benchmarks (and the
// script ExecuteBash writes per step) cost what this file system costs.
std::string file_system_name(const fs::path& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0) {
    return "unknown";
  }
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0x01021994:
      return "tmpfs";
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
  }
  return fmt::format("0x{:x}", static_cast<unsigned long>(info.f_type));
}

std::string load_average() {
  double load[3] = {};
  if (::getloadavg(load, 3) != 3) {
    return "unknown";
  }
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

Json timing_json(Timing t) {
  return Json{{"wall_ms", t.wall_ms}, {"cpu_ms", t.cpu_ms}};
}

Json figure_json(const Figure& f) {
  return Json{{"name", f.name},
              {"steps", f.steps},
              {"total", timing_json(f.total)},
              {"baseline", timing_json(f.baseline)},
              {"fixed", timing_json(f.fixed)},
              {"per_step_ms", f.per_step(f.total.wall_ms)},
              {"baseline_per_step_ms", f.per_step(f.baseline.wall_ms)},
              {"overhead_per_step_ms", f.overhead_per_step(f.total.wall_ms, f.baseline.wall_ms)},
              {"ratio", Figure::ratio(f.total.wall_ms, f.baseline.wall_ms)},
              {"target", fmt::format("{} < {} ms", metric_name(f.metric), f.target_ms)},
              {"checked_ms", f.checked_ms()},
              {"pass", f.pass()}};
}

// What the figures depend on besides kiln: the machine's load and the temporary file system.
struct Context {
  std::string load_before;
  fs::path folder;
  std::string file_system;
};

Json to_json(const std::vector<Figure>& figures, const Options& options, const Context& context) {
  Json out{{"bench", "kiln-toe"},
           {"date", kiln::format_rfc3339_utc(std::chrono::system_clock::now())},
           {"reps", options.reps},
           {"statistic", "median"},
           {"cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
           {"load_average_before", context.load_before},
           {"load_average_after", load_average()},
           {"temp_file_system", context.file_system},
           {"results", Json::array()}};
  for (const Figure& f : figures) {
    out["results"].push_back(figure_json(f));
  }
  return out;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) {
      options.reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--keep") {
      options.keep = true;
    } else if (arg == "--only" && i + 1 < argc) {
      options.only = argv[++i];
    } else {
      die("usage: kiln_toe_bench [--reps N] [--only validate|bash|file] [--keep]");
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  Context context{load_average(), {}, {}};
  kiln::Result<kiln::TempDir> dir = kiln::TempDir::create("kiln-toe-bench-");
  if (!dir) {
    die(dir.error().message);
  }
  if (options.keep) {
    dir->keep();
  }
  context.folder = dir->path();
  context.file_system = file_system_name(dir->path());
  fs::path logs = dir->path() / "logs";
  reset_folder(logs);
  RunBench bench(logs);

  std::vector<Figure> figures;
  auto wanted = [&](std::string_view name) { return options.only.empty() || options.only == name; };
  if (wanted("validate")) {
    figures.push_back(bench_validate(dir->path(), options.reps));
  }
  if (wanted("bash")) {
    figures.push_back(bench_bash(dir->path(), bench, options.reps));
  }
  if (wanted("file")) {
    figures.push_back(bench_file(dir->path(), bench, options.reps));
  }
  if (figures.empty()) {
    die("--only takes validate, bash or file");
  }
  fmt::print("kiln-toe benchmarks: median of {} rounds after one warm-up; load average {} -> {}\n",
             options.reps,
             context.load_before,
             load_average());
  fmt::print("temporary folder {} on {}{}\n\n",
             context.folder.string(),
             context.file_system,
             options.keep ? " (kept)" : "");
  print_table(figures);
  fmt::print("{}\n", to_json(figures, options, context).dump());
  return 0;
}
