// Recovery's decisions, pure: which images are left, queued again or failed.

#include "kiln/build/recovery.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "kiln/os/namespace.hpp"

namespace kiln::build {
namespace {

Json image(const std::string& status, const Json& kiln = Json()) {
  Json j{{"arn", "arn:aws:imagebuilder:local:000000000000:image/a/1.0.0/1"},
         {"state", {{"status", status}}}};
  if (!kiln.is_null()) {
    j["kiln"] = kiln;
  }
  return j;
}

Json built_by(pid_t pid, unsigned long long start) {
  return Json{{"builder", {{"pid", pid}, {"startTime", start}}}};
}

// Alive: pid 100 started at tick 5, nothing else.
bool alive(const Builder& b) {
  return b.pid == 100 && b.start_time == 5;
}

TEST(RecoveryTest, ALiveBuilderIsLeftAlone) {
  for (const char* status : {"PENDING", "BUILDING", "TESTING", "DISTRIBUTING"}) {
    EXPECT_EQ(recovery_action(image(status, built_by(100, 5)), false, alive),
              RecoveryAction::kLeave)
        << status;
    EXPECT_EQ(recovery_action(image(status, built_by(100, 5)), true, alive), RecoveryAction::kLeave)
        << status;
  }
}

TEST(RecoveryTest, ADeadBuilderOrAReusedPidFailsTheImage) {
  for (const char* status :
       {"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"}) {
    EXPECT_EQ(recovery_action(image(status, built_by(101, 5)), false, alive), RecoveryAction::kFail)
        << status;
    // The same pid, another process (another start time).
    EXPECT_EQ(recovery_action(image(status, built_by(100, 6)), false, alive), RecoveryAction::kFail)
        << status;
  }
  // Started but no builder recorded (an older kiln, or pid 0).
  EXPECT_EQ(recovery_action(image("BUILDING", Json::object()), false, alive),
            RecoveryAction::kFail);
  EXPECT_EQ(recovery_action(image("BUILDING"), false, alive), RecoveryAction::kFail);
}

TEST(RecoveryTest, FinalImagesAreNeverTouched) {
  for (const char* status :
       {"AVAILABLE", "FAILED", "CANCELLED", "DEPRECATED", "DELETED", "DISABLED", "NOT-A-STATUS"}) {
    EXPECT_EQ(recovery_action(image(status, built_by(101, 5)), true, alive), RecoveryAction::kLeave)
        << status;
  }
}

TEST(RecoveryTest, QueuedButNeverStartedIsTheDaemonsToRequeue) {
  EXPECT_EQ(recovery_action(image("PENDING"), true, alive), RecoveryAction::kRequeue);
  EXPECT_EQ(recovery_action(image("PENDING"), false, alive), RecoveryAction::kLeave);
  // Created by a command that builds in the foreground and died before building.
  EXPECT_EQ(recovery_action(image("PENDING", built_by(101, 5)), true, alive),
            RecoveryAction::kFail);
}

TEST(RecoveryTest, BuilderRecordsRoundTrip) {
  Builder me = this_process();
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_GT(me.start_time, 0u);
  Json stored = Json::parse(image("BUILDING", Json{{"builder", builder_json(me)}}).dump());
  EXPECT_EQ(builder_of(stored), me);
  // This process counts as dead: recovery only looks at images before it builds anything.
  EXPECT_FALSE(builder_alive(me));
  EXPECT_FALSE(builder_alive(Builder{}));
  // Another running process is alive with its own start time, dead with any other.
  pid_t parent = ::getppid();
  std::optional<unsigned long long> started = os::process_start_time(parent);
  ASSERT_TRUE(started.has_value());
  EXPECT_TRUE(builder_alive(Builder{parent, *started}));
  EXPECT_FALSE(builder_alive(Builder{parent, *started + 1}));
  EXPECT_EQ(builder_of(image("BUILDING", Json{{"builder", "garbage"}})), Builder{});
}

}  // namespace
}  // namespace kiln::build
