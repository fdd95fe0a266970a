#include "kiln/service/scheduler.hpp"

#include "kiln/schedule/schedule.hpp"

namespace kiln::service {

const char* const kLastFiredMember = "dateLastFired";

namespace {

std::optional<SystemTime> date_member(const Json& object, const char* member) {
  if (!object.contains(member) || !object[member].is_string()) {
    return std::nullopt;
  }
  return parse_rfc3339_utc(object[member].get<std::string>());
}

}  // namespace

Result<Decision> evaluate(const Json& pipeline, SystemTime now) {
  Decision decision;
  const Json schedule_json = pipeline.value("schedule", Json::object());
  std::string expression = schedule_json.value("scheduleExpression", "");
  if (pipeline.value("status", "ENABLED") != "ENABLED" || expression.empty()) {
    return decision;
  }
  schedule::Schedule schedule = KILN_TRY(schedule::Schedule::parse(expression));
  std::string timezone = schedule_json.value("timezone", "UTC");
  std::optional<SystemTime> changed = date_member(pipeline, "dateUpdated");
  if (!changed) {
    changed = date_member(pipeline, "dateCreated");
  }
  SystemTime anchor = changed.value_or(now);
  SystemTime since = anchor;
  if (std::optional<SystemTime> fired = date_member(pipeline, kLastFiredMember)) {
    since = std::max(since, *fired);
  }
  std::optional<SystemTime> due = KILN_TRY(schedule::next_run(schedule, timezone, since, anchor));
  if (due && *due <= now) {
    decision.fire = true;
    decision.next = KILN_TRY(schedule::next_run(schedule, timezone, now, anchor));
  } else {
    decision.next = due;
  }
  return decision;
}

bool dependencies_changed(const std::vector<std::string>& resolved_components,
                          const std::string& parent_digest,
                          const Json* last_image) {
  if (last_image == nullptr || !last_image->contains("kiln")) {
    return true;
  }
  const Json& kiln = (*last_image)["kiln"];
  Json components = kiln.value("resolvedComponents", Json::array());
  std::vector<std::string> before;
  for (const Json& c : components) {
    before.push_back(c.is_string() ? c.get<std::string>() : "");
  }
  std::string before_parent = kiln.value("parentImage", Json::object()).value("digest", "");
  return before != resolved_components || before_parent != parent_digest;
}

}  // namespace kiln::service
