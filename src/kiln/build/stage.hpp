#pragma once

// The parts of a build the workflow is made of (workflow.cpp puts them in order): resolving the
// parent image, running kiln-toe in an instance, reading its output.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/build/workflow.hpp"

namespace kiln::build {

// Where an instance sees what the build binds in.
inline constexpr std::string_view kInstanceKilnDir = "/.kiln";

// A component of the recipe as a build runs it.
struct BuildComponent {
  std::string arn;                  // the build version the recipe's ARN resolved to
  std::string data;                 // the document
  Json parameters;                  // the recipe's [{name, value: [...]}]
  std::vector<std::string> phases;  // the document's phase names
  std::string file;                 // the document's file name in the documents folder
  bool has_phase(std::string_view name) const;
};

// The phase names of an AWSTOE document (empty if it is not YAML with a phases list).
std::vector<std::string> document_phases(const std::string& data);

// The parent image of a recipe: a store reference (name/x.y.z[/n] or an image ARN, `x`
// wildcards resolved to the newest), or a managed source (busybox, debian-12, debian-13,
// ubuntu-22.04, ubuntu-24.04; also as an "aws"-owned image ARN such as
// arn:aws:imagebuilder:us-east-1:aws:image/debian-12-x86/x.x.x) bootstrapped into the store on
// first use and reused after.
// With `bootstrap` false a managed source not yet in the store is kNotFound.
Result<store::ImageVersion> resolve_parent(image::Images& images,
                                           const fs::path& root,
                                           const std::string& parent,
                                           const std::function<void(const std::string&)>& note,
                                           bool bootstrap = true);

// One kiln-toe run over `components` (those with one of `phases`) in a running instance, resuming
// after every reboot it asks for.
// kiln-toe writes its folders into the instance's exchange folder (bound at /.kiln/logs); after
// every run they are copied into <log_folder>/<name> through descriptors that refuse links,
// FIFOs and files past the size limits (beneath.hpp): the log folder itself is never bound into
// an instance.
struct ToeStage {
  std::string name;                 // "build" or "test": the log subfolder
  std::vector<std::string> phases;  // "build", "validate" / "test"
  fs::path log_folder;              // the build's log folder (the host's, never bound)
  bool trace = false;               // stream every step's output as kOutput events
  fs::path exchange;                // the instance's exchange folder (instances.folder/exchange)
};
struct ToeStageResult {
  bool ok = false;
  bool cancelled = false;
  std::string reason;  // when !ok && !cancelled
  int reboots = 0;
};
Result<ToeStageResult> run_toe_stage(instance::Instances& instances,
                                     const std::string& instance_id,
                                     const ToeStage& stage,
                                     const std::vector<BuildComponent>& components,
                                     std::atomic<bool>* cancel,
                                     const std::function<void(Event)>& emit);

// Parses one line kiln-toe printed on stderr ("<date> <time> Step Install (ExecuteBash)") into a
// kStep event; false when the line is not a progress line.
bool parse_progress_line(std::string_view line, Event& event, std::string& document);

// The last `lines` lines of `text`.
std::string tail_lines(std::string_view text, size_t lines);

}  // namespace kiln::build
