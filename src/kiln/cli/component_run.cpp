// kiln component run DOC.yaml --image REF: one component's phases on a throwaway instance, the
// seconds-long loop for developing a component. The instance is terminated after (kept with
// --keep); the kiln-toe output folders stay in the printed log folder.

#include <unistd.h>

#include <cstdio>

#include "kiln/base/file.hpp"
#include "kiln/build/stage.hpp"
#include "kiln/cli/verbs.hpp"

#ifndef KILN_BUILD_TOE_BUNDLE
#define KILN_BUILD_TOE_BUNDLE ""
#endif

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct RunArgs {
  std::string document;
  std::string image = "busybox";
  std::vector<std::string> phases;
  std::vector<std::string> parameters;  // name=value
  std::string network = "private";
  std::string instance_type;
  std::string disk_size;
  bool keep = false;
  bool quiet = false;
};

int run_component(Context& context, const RunArgs& args) {
  Result<image::Images*> images = context.images();
  if (!images) {
    return report(images.error());
  }
  Result<build::ToeBundle> toe = build::find_toe_bundle(KILN_BUILD_TOE_BUNDLE);
  if (!toe) {
    return report(toe.error());
  }
  Result<std::string> data = read_file(args.document);
  if (!data) {
    return report(data.error());
  }
  build::BuildComponent component;
  component.arn = fs::path(args.document).filename().string();
  component.data = *data;
  component.phases = build::document_phases(*data);
  component.file = fs::path(args.document).filename().string();
  for (const std::string& p : args.parameters) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report(
          make_error(ErrorCode::kInvalidArgument, "--parameter '{}' is not name=value", p));
    }
    component.parameters.push_back(
        Json{{"name", p.substr(0, eq)}, {"value", Json::array({p.substr(eq + 1)})}});
  }
  std::vector<std::string> phases = args.phases;
  if (phases.empty()) {
    phases = component.phases;  // every phase, in document order
  }
  auto note = [&](const std::string& text) {
    if (!args.quiet) {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
  };
  Result<store::ImageVersion> image =
      build::resolve_parent(**images, context.root, args.image, note);
  if (!image) {
    return report(image.error());
  }
  fs::path logs =
      context.root / "logs" / "component-runs" /
      (format_folder_time_utc(std::chrono::system_clock::now()) + "-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(logs / "documents", ec);
  if (ec) {
    return report(
        make_error(ErrorCode::kIo, "creating {}: {}", (logs / "documents").string(), ec.message()));
  }
  if (Status s = write_file(logs / "documents" / component.file, *data); !s) {
    return report(s.error());
  }
  Result<std::vector<fs::path>> lower = (*images)->lower_dirs(*image);
  if (!lower) {
    return report(lower.error());
  }
  const std::string kiln_dir(build::kInstanceKilnDir);
  instance::LaunchRequest request;
  request.image = image->arn;
  request.image_digest = image->manifest.digest.str();
  request.lower = *lower;
  request.network = instance::network_from_name(args.network).value_or(instance::Network::kPrivate);
  request.instance_type = args.instance_type;
  if (!args.disk_size.empty()) {
    Result<uint64_t> size = instance::parse_disk_size(args.disk_size);
    if (!size) {
      return report(size.error());
    }
    request.disk_size = *size;
  }
  // The instance dies with this command (--keep unties it at the end).
  request.die_with_owner = true;
  request.binds = {{toe->launcher, kiln_dir + "/toe/bin/kiln-toe", true},
                   {toe->libexec, kiln_dir + "/toe/libexec/kiln", true},
                   {logs / "documents", kiln_dir + "/documents", true}};
  // The log folder stays the host's: kiln-toe writes into the instance's own exchange folder
  // and its output is copied out without following links (as a build does).
  request.exchange_target = kiln_dir + "/logs";
  instance::Instances instances = context.instances();
  Result<instance::InstanceRecord> launched = instances.launch(request);
  if (!launched) {
    return report(launched.error());
  }
  note(fmt::format("instance {} from {}", launched->id, image->str()));
  build::ToeStage stage{"run", phases, logs, true, instances.exchange(launched->id)};
  std::atomic<bool> cancel{false};
  Result<build::ToeStageResult> result = build::run_toe_stage(
      instances, launched->id, stage, {component}, &cancel, [&](build::Event e) {
        if (args.quiet) {
          return;
        }
        if (e.kind == build::Event::Kind::kOutput) {
          std::fwrite(e.text.data(), 1, e.text.size(), stderr);
        } else if (e.kind == build::Event::Kind::kStep && !e.step_status.empty()) {
          std::fprintf(stderr,
                       "%s %s: %s%s%s\n",
                       e.phase.c_str(),
                       e.step.c_str(),
                       e.step_status.c_str(),
                       e.text.empty() ? "" : ": ",
                       e.text.c_str());
        } else if (e.kind == build::Event::Kind::kNote) {
          std::fprintf(stderr, "%s\n", e.text.c_str());
        }
      });
  // Read before the instance goes: a failure because its disk filled says so.
  std::string disk_note;
  if (Result<os::DiskUsage> usage = instances.disk_usage(launched->id); usage && usage->full()) {
    disk_note = fmt::format(" (the instance's disk is full: limit {}; --disk-size gives more)",
                            os::format_bytes(usage->size));
  }
  if (args.keep) {
    if (Status released = instances.release(launched->id); !released) {
      note("keeping the instance failed: " + released.error().message);
    }
    note(fmt::format("instance {} kept: kiln instance shell {}", launched->id, launched->id));
  } else if (Status s = instances.terminate(launched->id); !s) {
    note("terminating the instance failed: " + s.error().message);
  }
  note("logs: " + logs.string());
  if (!result) {
    Error error = result.error();
    error.message += disk_note;
    return report(error);
  }
  if (!result->ok) {
    std::fprintf(stderr, "kiln: failed: %s%s\n", result->reason.c_str(), disk_note.c_str());
    return 1;
  }
  std::printf("success\n");
  return 0;
}

}  // namespace

Verb add_component_run(CLI::App& group) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd =
      group.add_subcommand("run", "Run one component's phases on a throwaway instance of an image");
  cmd->add_option("document", args->document, "The component document (AWSTOE YAML)")->required();
  cmd->add_option("--image",
                  args->image,
                  "Image to run on: name/x.y.z, an ARN or a managed source (busybox, debian-12, "
                  "...); default busybox");
  cmd->add_option("--phases", args->phases, "Phases to run (default: all, in document order)")
      ->delimiter(',');
  cmd->add_option("--parameter,-p", args->parameters, "A document parameter, name=value");
  cmd->add_option("--network",
                  args->network,
                  "private (default: its own network, outbound only, nothing of the host), none, "
                  "or host (the host's network, its loopback services included)")
      ->check(CLI::IsMember({"private", "none", "host"}));
  cmd->add_option("--instance-type", args->instance_type, "Resource limits by EC2 name");
  cmd->add_option("--disk-size",
                  args->disk_size,
                  "Size of the instance's disk: 64M, 8G, ... (a bare number is GiB; default 8G)");
  cmd->add_flag("--keep", args->keep, "Keep the instance after the run");
  cmd->add_flag("--quiet,-q", args->quiet, "Print only the result");
  return {cmd, [args](Context& context) { return run_component(context, *args); }};
}

}  // namespace kiln::cli
