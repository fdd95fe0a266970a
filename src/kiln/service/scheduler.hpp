#pragma once

// When pipelines run: the scheduler's decisions as pure functions of a pipeline and "now", so
// they are tested with a fake clock (docs/pipelines.md).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"

namespace kiln::service {

using Json = nlohmann::ordered_json;

// The name of kiln's own pipeline member that records when the schedule last fired.
extern const char* const kLastFiredMember;

struct Decision {
  bool fire = false;               // run the pipeline now
  std::optional<SystemTime> next;  // the dateNextRun to report (after firing, if it fires)
};

// For an ENABLED pipeline with a schedule: the first slot after the later of when it last fired
// and when it was created or last updated; if that slot is not after `now`, it fires once (missed
// slots while the daemon was down collapse into one run) and the next slot is computed from
// `now`. A DISABLED pipeline or one without a schedule never fires and has no next run.
Result<Decision> evaluate(const Json& pipeline, SystemTime now);

// The recipe's dependencies as a build resolves them now, against what the pipeline's last
// AVAILABLE image was built from (its kiln.resolvedComponents and kiln.parentImage.digest):
// true when anything differs or there is no such image.
bool dependencies_changed(const std::vector<std::string>& resolved_components,
                          const std::string& parent_digest,
                          const Json* last_image);

}  // namespace kiln::service
