#!/usr/bin/env bash
# Reboots: a step that exits 194 or a Reboot step ends the run with exit code 194 and saved
# state; running the same command again resumes in the same log folder. No machine reboots here:
# the second run of the command stands in for the run after the reboot.
# Usage: toe_reboot.sh <kiln-toe binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

R=$DATA/reboot
STATE_FILE=kiln-toe-state.json

lines() {
  if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

toe_folder_count() {
  find "$1" -mindepth 1 -maxdepth 1 -name 'TOE_*' | wc -l | tr -d ' '
}

test_exit_194_resumes() {
  local W S first_log first_id
  W=$(work_dir)
  S=$T/state
  run_doc "$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 194 "the run whose step exits 194"
  assert_json "$OUT" status rebootRequested
  assert_contains "$ERR" "same command" "stderr tells how to resume"
  assert_exists "$S/$STATE_FILE" "the state file"
  assert_eq 1 "$(lines "$W/before.log")" "runs of Before"
  assert_eq 1 "$(lines "$W/rebooter.log")" "runs of Rebooter"
  assert_absent "$W/after.log" "the step after the reboot"
  first_log=$LOG
  first_id=$(json_get "$OUT" executionId)

  run_doc "$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 0 "the same command again (after the reboot)"
  assert_eq 1 "$(lines "$W/before.log")" "runs of Before (done before the reboot)"
  assert_eq 2 "$(lines "$W/rebooter.log")" "runs of Rebooter (it runs again after the reboot)"
  assert_eq 1 "$(lines "$W/after.log")" "runs of After"
  assert_eq "$first_log" "$LOG" "log folder of the resumed run"
  assert_eq 1 "$(toe_folder_count "$T/logs")" "TOE_ folders"
  assert_json "$OUT" executionId "$first_id"
  assert_summary success 3 0 0
  assert_step build Before status success
  assert_step build Rebooter status success
  assert_step validate After status success
  assert_json "$DO" status success
  assert_json "$DO" executionId "$first_id"
  assert_absent "$S/$STATE_FILE" "the state file after the run completed"
  # One console.log holds both halves of the run.
  assert_contains "$LOG/console.log" "Rebooter" "console.log"
  assert_contains "$LOG/console.log" "After" "console.log"
  assert_contains "$LOG/console.log" "CmdExecution: Stdout: done" "console.log after the reboot"
}

test_reboot_module_resumes_after_it() {
  local W first_log
  W=$(work_dir)
  # No --state-directory: the default is inside the log directory.
  run_doc "$R/reboot_module.yaml" --parameters "Dir=$W"
  assert_rc 194 "the run with a Reboot step"
  assert_json "$OUT" status rebootRequested
  assert_exists "$T/logs/.kiln-toe-state/$STATE_FILE" "the state file in the default place"
  assert_eq 1 "$(lines "$W/before.log")" "runs of Before"
  assert_absent "$W/after.log" "the step after Reboot"
  first_log=$LOG

  # The step after the Reboot has not been evaluated yet: its condition sees the new file.
  touch "$W/go"
  run_doc "$R/reboot_module.yaml" --parameters "Dir=$W"
  assert_rc 0 "the same command again"
  assert_eq 1 "$(lines "$W/before.log")" "runs of Before"
  assert_eq 1 "$(lines "$W/after.log")" "runs of After"
  assert_eq "$first_log" "$LOG" "log folder of the resumed run"
  assert_eq 1 "$(toe_folder_count "$T/logs")" "TOE_ folders"
  assert_step build Before status success
  assert_step validate Restart status success
  assert_step validate After status success
  assert_json "$OUT" status success
  assert_absent "$T/logs/.kiln-toe-state/$STATE_FILE" "the state file after the run completed"
}

test_reboot_in_second_document() {
  local W S
  W=$(work_dir)
  S=$T/state
  run_doc "$R/other.yaml,$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 194
  assert_eq 1 "$(lines "$W/other.log")" "runs of the first document's step"
  run_doc "$R/other.yaml,$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 0 "the same command again"
  # The first document finished before the reboot and does not run again.
  assert_eq 1 "$(lines "$W/other.log")" "runs of the first document's step"
  assert_eq 1 "$(lines "$W/before.log")" "runs of Before"
  assert_eq 2 "$(lines "$W/rebooter.log")" "runs of Rebooter"
  assert_eq 1 "$(lines "$W/after.log")" "runs of After"
  assert_json "$DO" documents.0.status success
  assert_json "$DO" documents.1.status success
  assert_json "$DO" documents.1.phases.1.steps.0.name After
  assert_summary success 4 0 0
}

test_condition_not_reevaluated() {
  local W S
  W=$(work_dir)
  S=$T/state
  touch "$W/flag"
  run_doc "$R/condition.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 194
  assert_eq 1 "$(lines "$W/guarded.log")" "runs of Guarded"

  # The condition would now be false; it was decided before the reboot and stays Execute.
  rm "$W/flag"
  run_doc "$R/condition.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 0 "the same command again"
  assert_eq 2 "$(lines "$W/guarded.log")" "runs of Guarded"
  assert_step build Guarded status success
  assert_summary success 1 0 0
}

test_state_of_another_run_refused() {
  local W S
  W=$(work_dir)
  S=$T/state
  run_doc "$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 194

  run_doc "$R/other.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 2 "another document with the same state directory"
  assert_contains "$ERR" "$S/$STATE_FILE" "stderr names the state file"
  assert_absent "$W/other.log" "the refused document's step"

  run_doc "$R/exit194.yaml" --parameters "Dir=$W,Extra=1" --state-directory "$S"
  assert_rc 2 "the same document with other parameters"
  run_doc "$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S" --phases build
  assert_rc 2 "the same document with other phases"
  assert_eq 1 "$(lines "$W/rebooter.log")" "runs of Rebooter after refused runs"

  # The interrupted run is still there to resume.
  assert_exists "$S/$STATE_FILE"
  run_doc "$R/exit194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 0 "resuming after the refused runs"
  assert_eq 1 "$(lines "$W/after.log")" "runs of After"
  assert_absent "$S/$STATE_FILE"

  # With the state gone, the other document runs.
  run_doc "$R/other.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 0 "the other document once the state is gone"
}

test_completed_run_leaves_no_state() {
  local W S
  W=$(work_dir)
  S=$T/state
  run_doc "$R/other.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 0
  assert_absent "$S/$STATE_FILE" "the state file after a run without reboots"
}

test_reboot_loop_gives_up() {
  local W S i
  W=$(work_dir)
  S=$T/state
  for i in 1 2 3 4 5 6 7 8 9 10; do
    run_doc "$R/always194.yaml" --parameters "Dir=$W" --state-directory "$S"
    assert_rc 194 "run $i of a step that always exits 194"
  done
  run_doc "$R/always194.yaml" --parameters "Dir=$W" --state-directory "$S"
  assert_rc 1 "run 11 of a step that always exits 194 (after 10 reboots)"
  assert_eq 11 "$(lines "$W/forever.log")" "runs of the step"
  assert_step build Forever status failed
  assert_match "reboot" "$(step_get "$DO" build Forever failureMessage)" \
    "failureMessage of a step that keeps asking for reboots"
  assert_json "$OUT" status failed
  assert_eq 1 "$(toe_folder_count "$T/logs")" "TOE_ folders"
  assert_absent "$S/$STATE_FILE" "the state file after the run gave up"
}

run_test exit_194_resumes test_exit_194_resumes
run_test reboot_module_resumes_after_it test_reboot_module_resumes_after_it
run_test reboot_in_second_document test_reboot_in_second_document
run_test condition_not_reevaluated test_condition_not_reevaluated
run_test state_of_another_run_refused test_state_of_another_run_refused
run_test completed_run_leaves_no_state test_completed_run_leaves_no_state
run_test reboot_loop_gives_up test_reboot_loop_gives_up
finish
