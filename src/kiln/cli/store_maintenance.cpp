// kiln store verify | gc: check every digest and reference; remove what no image uses.

#include "kiln/cli/verbs.hpp"

namespace kiln::cli {

Verb add_store_verify(CLI::App& group) {
  CLI::App* cmd = group.add_subcommand("verify", "Check every blob's digest and every reference");
  return {cmd, [](Context& context) {
            Result<image::Images*> images = context.images();
            if (!images) {
              return report(images.error());
            }
            Result<store::VerifyReport> report_ = (*images)->store().verify();
            if (!report_) {
              return report(report_.error());
            }
            for (const std::string& problem : report_->problems) {
              std::printf("%s\n", problem.c_str());
            }
            std::printf("%zu images, %zu blobs checked: %s\n",
                        report_->images,
                        report_->blobs_checked,
                        report_->ok() ? "ok" : "PROBLEMS FOUND");
            return report_->ok() ? 0 : 1;
          }};
}

Verb add_store_gc(CLI::App& group) {
  auto grace = std::make_shared<int64_t>(3600);
  CLI::App* cmd = group.add_subcommand("gc", "Remove blobs and unpacked layers no image uses");
  cmd->add_option(
      "--grace", *grace, "Keep unreferenced blobs younger than this many seconds (default 3600)");
  return {cmd, [grace](Context& context) {
            Result<image::Images*> images = context.images();
            if (!images) {
              return report(images.error());
            }
            store::GcOptions options;
            options.grace = std::chrono::seconds(*grace);
            Result<store::GcReport> gc = (*images)->store().gc(options);
            if (!gc) {
              return report(gc.error());
            }
            // Layers an instance runs on stay, even when its image was deleted.
            std::set<std::filesystem::path> in_use;
            if (auto all = context.instances().list(); all) {
              for (const instance::InstanceRecord& r : *all) {
                in_use.insert(r.sandbox.lower.begin(), r.sandbox.lower.end());
              }
            }
            Result<image::LayerPrune> pruned = (*images)->prune_layers(gc->live_diff_ids, in_use);
            if (!pruned) {
              return report(pruned.error());
            }
            std::printf(
                "removed %zu blobs (%llu bytes), %zu temporary files, %zu unpacked "
                "layers\n",
                gc->removed_blobs.size(),
                static_cast<unsigned long long>(gc->bytes_freed),
                gc->removed_temp_files.size(),
                pruned->removed.size());
            return 0;
          }};
}

}  // namespace kiln::cli
