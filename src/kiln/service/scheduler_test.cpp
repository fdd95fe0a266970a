#include "kiln/service/scheduler.hpp"

#include <gtest/gtest.h>

namespace kiln::service {
namespace {

using namespace std::chrono_literals;

SystemTime at(const char* text) {
  return *parse_rfc3339_utc(text);
}

Json pipeline(const char* expression, const char* created = "2026-11-26T10:00:30.000Z") {
  return Json{{"arn", "arn:aws:imagebuilder:local:000000000000:image-pipeline/p"},
              {"status", "ENABLED"},
              {"dateCreated", created},
              {"schedule", {{"scheduleExpression", expression}, {"timezone", "UTC"}}}};
}

TEST(Evaluate, NothingBeforeTheFirstSlot) {
  Result<Decision> d = evaluate(pipeline("cron(* * * * ? *)"), at("2026-11-26T10:00:45Z"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->fire);
  EXPECT_EQ(d->next, at("2026-11-26T10:01:00Z"));
}

TEST(Evaluate, FiresAtTheSlotAndReportsTheFollowingOne) {
  Result<Decision> d = evaluate(pipeline("cron(* * * * ? *)"), at("2026-11-26T10:01:00Z"));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->fire);
  EXPECT_EQ(d->next, at("2026-11-26T10:02:00Z"));
}

TEST(Evaluate, OnceFiredTheSameSlotDoesNotFireAgain) {
  Json p = pipeline("cron(* * * * ? *)");
  p[kLastFiredMember] = "2026-11-26T10:01:00.000Z";
  Result<Decision> d = evaluate(p, at("2026-11-26T10:01:40Z"));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->fire);
  EXPECT_EQ(d->next, at("2026-11-26T10:02:00Z"));
}

TEST(Evaluate, MissedSlotsFireOnceAndTheNextIsAfterNow) {
  Json p = pipeline("cron(0/15 * * * ? *)");
  p[kLastFiredMember] = "2026-11-26T10:15:00.000Z";
  // The daemon was down from 10:20 to 13:07: eleven slots passed.
  Result<Decision> d = evaluate(p, at("2026-11-26T13:07:10Z"));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->fire);
  EXPECT_EQ(d->next, at("2026-11-26T13:15:00Z"));
}

TEST(Evaluate, AnUpdateMovesTheStartPastEarlierSlots) {
  Json p = pipeline("cron(0 * * * ? *)", "2026-11-26T08:30:00.000Z");
  p["dateUpdated"] = "2026-11-26T11:10:00.000Z";
  Result<Decision> d = evaluate(p, at("2026-11-26T11:20:00Z"));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->fire) << "the 09:00-11:00 slots were before the update";
  EXPECT_EQ(d->next, at("2026-11-26T12:00:00Z"));
}

TEST(Evaluate, TimeZonesMoveTheSlot) {
  Json p = pipeline("cron(0 9 * * ? *)");
  p["schedule"]["timezone"] = "Asia/Kolkata";  // 09:00 IST is 03:30 UTC
  Result<Decision> d = evaluate(p, at("2026-11-26T10:00:45Z"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->next, at("2026-11-27T03:30:00Z"));
}

TEST(Evaluate, DisabledOrUnscheduledPipelinesNeverFire) {
  Json disabled = pipeline("cron(* * * * ? *)");
  disabled["status"] = "DISABLED";
  Json manual = pipeline("cron(* * * * ? *)");
  manual.erase("schedule");
  for (const Json& p : {disabled, manual}) {
    Result<Decision> d = evaluate(p, at("2026-11-27T00:00:00Z"));
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->fire);
    EXPECT_FALSE(d->next.has_value());
  }
}

TEST(Evaluate, ABadExpressionIsAnError) {
  EXPECT_FALSE(evaluate(pipeline("cron(61 * * * ? *)"), at("2026-11-27T00:00:00Z")).ok());
}

TEST(DependenciesChanged, ComparesComponentsAndParent) {
  Json last{{"kiln",
             {{"resolvedComponents", {"arn:c/a/1.0.0/1", "arn:c/b/2.0.0/3"}},
              {"parentImage", {{"digest", "sha256:aa"}}}}}};
  std::vector<std::string> same{"arn:c/a/1.0.0/1", "arn:c/b/2.0.0/3"};
  EXPECT_FALSE(dependencies_changed(same, "sha256:aa", &last));
  EXPECT_TRUE(dependencies_changed(same, "sha256:bb", &last)) << "a newer parent";
  EXPECT_TRUE(dependencies_changed({"arn:c/a/1.0.0/2", "arn:c/b/2.0.0/3"}, "sha256:aa", &last))
      << "a newer component build";
  EXPECT_TRUE(dependencies_changed(same, "sha256:aa", nullptr)) << "never built";
  Json without_record{{"arn", "x"}};
  EXPECT_TRUE(dependencies_changed(same, "sha256:aa", &without_record));
}

}  // namespace
}  // namespace kiln::service
