#!/usr/bin/env bash
# The component language end to end: each document under tests/data/features runs through the
# real kiln-toe, and the test checks the files its steps made, detailedoutput.json and the
# stdout summary.
# Usage: toe_features.sh <kiln-toe binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

F=$DATA/features

# Every document here is valid: `validate` accepts them all.
test_documents_validate() {
  local docs
  docs=$(find "$F" -name '*.yaml' | sort | paste -sd, -)
  toe validate --documents "$docs"
  assert_rc 0 "validate of tests/data/features"
  assert_eq "$(find "$F" -name '*.yaml' | wc -l)" "$(grep -c ': valid$' "$OUT")" \
    "documents reported valid"
}

# ---- parameters and constants -------------------------------------------------------------------

test_parameters() {
  local W
  W=$(work_dir)
  run_doc "$F/parameters.yaml" --parameters "Dir=$W,Target=world"
  assert_rc 0
  assert_file_eq "$W/greeting.txt" "hello world!"

  run_doc "$F/parameters.yaml" --parameters "Dir=$W,Target=there,Greeting=hi"
  assert_rc 0 "run with a default overridden"
  assert_file_eq "$W/greeting.txt" "hi there!"

  rm -f "$W/greeting.txt"
  LOGS=$T/missing-logs run_doc "$F/parameters.yaml" --parameters "Dir=$W"
  assert_rc 2 "run without a required parameter"
  assert_contains "$ERR" "Target" "stderr names the missing parameter"
  assert_absent "$W/greeting.txt" "output of a run missing a parameter"
  assert_absent "$T/missing-logs" "log directory of a run that never started"
}

# ---- phases -------------------------------------------------------------------------------------

test_phases_in_document_order() {
  local W
  W=$(work_dir)
  run_doc "$F/phases.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_file_eq "$W/order.txt" "build/RecordBuild
validate/RecordValidate
test/RecordTest"
  assert_summary success 3 0 0

  # --phases in another order: the document's order wins; unlisted phases do not run.
  rm "$W/order.txt"
  run_doc "$F/phases.yaml" --parameters "Dir=$W" --phases test,build
  assert_rc 0 "run --phases test,build"
  assert_file_eq "$W/order.txt" "build/RecordBuild
test/RecordTest"
  assert_json "$DO" documents.0.phases.0.name build
  assert_json "$DO" documents.0.phases.1.name test
  assert_eq 2 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["documents"][0]["phases"]))' "$DO")" \
    "number of phases in detailedoutput.json"
  assert_summary success 2 0 0

  # A phase no document has: nothing runs, and that is a success.
  rm "$W/order.txt"
  run_doc "$F/phases.yaml" --parameters "Dir=$W" --phases no-such-phase
  assert_rc 0 "run --phases no-such-phase"
  assert_absent "$W/order.txt"
  assert_summary success 0 0 0
}

test_several_documents() {
  local W
  W=$(work_dir)
  run_doc "$F/multi_a.yaml,$F/multi_b.yaml" --parameters "Dir=$W"
  assert_rc 0
  # Each document's phases in turn, documents in the order given.
  assert_file_eq "$W/multi.txt" "a build
a test
b build
b test"
  assert_json "$DO" documents.0.filePath "$F/multi_a.yaml"
  assert_json "$DO" documents.1.filePath "$F/multi_b.yaml"
  assert_summary success 4 0 0
  # document.yaml holds both documents.
  assert_contains "$LOG/document.yaml" "features-multi-a"
  assert_contains "$LOG/document.yaml" "features-multi-b"

  # The first document fails: the second does not run.
  rm "$W/multi.txt"
  run_doc "$F/multi_a.yaml,$F/multi_b.yaml" --parameters "Dir=$W,FailA=yes"
  assert_rc 1
  assert_file_eq "$W/multi.txt" "a build"
  assert_summary failed 1 1 0
  assert_contains "$OUT" "multi_a.yaml" "failureMessage names the failed document"
}

# ---- onFailure and maxAttempts -------------------------------------------------------------------

test_on_failure_abort() {
  local W
  W=$(work_dir)
  run_doc "$F/onfailure_abort.yaml" --parameters "Dir=$W"
  assert_rc 1
  assert_summary failed 1 1 0
  assert_absent "$W/after.txt" "the step after an aborting failure"
  assert_absent "$W/next-phase.txt" "the phase after an aborting failure"
  assert_step build Fails status failed
  assert_step build Fails onFailure Abort
  assert_json "$DO" status failed
  assert_json "$DO" documents.0.phases.0.status failed
  assert_contains "$OUT" "Fails" "failureMessage names the step"
}

test_on_failure_continue() {
  local W
  W=$(work_dir)
  run_doc "$F/onfailure_continue.yaml" --parameters "Dir=$W"
  # The remaining steps run, and the run still fails.
  assert_rc 1
  assert_file_eq "$W/after.txt" ran
  assert_step build Fails status failed
  assert_step build After status success
  assert_json "$DO" documents.0.phases.0.status failed
  assert_json "$DO" status failed
  assert_json "$OUT" status failed
  assert_json "$OUT" failedStepCount 1
  assert_json "$OUT" ignoredFailedStepCount 0
  assert_contains "$OUT" "Fails" "failureMessage names the failed step"
}

test_on_failure_ignore() {
  local W
  W=$(work_dir)
  run_doc "$F/onfailure_ignore.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_summary SuccessWithIgnoredFailure 3 0 1
  assert_file_eq "$W/after.txt" ran
  assert_file_eq "$W/next-phase.txt" ran
  assert_step build Fails status IgnoredFailure
  assert_step build Fails onFailure Ignore
  assert_step build After status success
  assert_json "$DO" documents.0.phases.0.status SuccessWithIgnoredFailure
  assert_json "$DO" documents.0.phases.1.status success
  assert_json "$DO" documents.0.status SuccessWithIgnoredFailure
  assert_json "$DO" status SuccessWithIgnoredFailure
}

test_max_attempts() {
  local W
  W=$(work_dir)
  run_doc "$F/retries.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_file_eq "$W/third-time.count" 3
  assert_eq 1 "$(wc -l <"$W/first-time.count")" "attempts of a step that succeeds at once"
  assert_eq 2 "$(wc -l <"$W/never.count")" "attempts of a step that never succeeds (maxAttempts 2)"
  assert_step build ThirdTime status success
  assert_step build ThirdTime maxAttempts 3
  assert_step build NeverWorks status IgnoredFailure
  assert_summary SuccessWithIgnoredFailure 3 0 1
}

# ---- timeoutSeconds ------------------------------------------------------------------------------

test_timeout_kills_process_group() {
  local W marker start elapsed
  W=$(work_dir)
  marker=$(unique_marker)
  start=$(date +%s)
  run_doc "$F/timeout.yaml" --parameters "Dir=$W,Marker=$marker"
  elapsed=$(($(date +%s) - start))
  assert_rc 1
  # Five attempts of timeoutSeconds 1 (one step ignores SIGTERM): far less than one 100 s sleep.
  if [ "$elapsed" -gt 40 ]; then
    fail "five attempts with timeoutSeconds: 1 took ${elapsed}s"
  fi
  assert_no_process "sleep 100\\.$marker" 3
  local step
  for step in Sleeps IgnoresTerm RetriedAfterTimeout LoopTimesOut; do
    assert_step build "$step" status failed
    assert_match "timed out" "$(step_get "$DO" build "$step" failureMessage)" \
      "failureMessage of $step"
  done
  assert_step build Sleeps timeoutSeconds 1
  # Each attempt gets the whole timeout again.
  assert_eq 2 "$(wc -l <"$W/attempts.log")" "attempts of a step that times out (maxAttempts 2)"
  # The iterations of a loop share one timeout: after the first, no other starts.
  assert_file_eq "$W/iterations.log" one
  assert_file_eq "$W/after.txt" ran
  assert_summary failed 5 4 0
}

# ---- conditionals --------------------------------------------------------------------------------

test_bash_semantics() {
  local W
  W=$(work_dir)
  run_doc "$F/bash.yaml" --parameters "Dir=$W"
  assert_rc 0
  # No `set -e`: only the last command's exit status counts.
  assert_step build LastCommandCounts status success
  assert_step build LastCommandCounts outputs '[{"stdout":"still-running"}]'
  assert_step build IsBash outputs '[{"stdout":"bash"}]'
  # All commands are one script (a variable survives), multi-line commands work, and the
  # stdout output loses its trailing newlines.
  assert_step build OneScript outputs '[{"stdout":"line1\nline2"}]'
  assert_file_eq "$W/one-script.txt" "line1
line2"
  assert_step build LastFails status IgnoredFailure
  assert_match "5" "$(step_get "$DO" build LastFails failureMessage)" "failureMessage (exit code)"
  # console.log has awstoe's CmdExecution lines.
  assert_contains "$LOG/console.log" "CmdExecution: Stdout: still-running"
  assert_contains "$LOG/console.log" "CmdExecution: ExitCode 5"
}

test_conditions() {
  local W
  W=$(work_dir)
  run_doc "$F/conditions.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_exists "$W/default-true" "true condition, no then: Execute"
  assert_exists "$W/case-insensitive" "stringEquals ignores case"
  assert_absent "$W/default-false" "false condition, no else: Skip"
  assert_absent "$W/then-skip" "true condition, then: Skip"
  assert_exists "$W/else-execute" "false condition, else: Execute"
  assert_absent "$W/abort-when" "false condition with only then: Abort"
  assert_exists "$W/last"
  assert_step build DefaultTrue status success
  assert_step build DefaultFalse status skipped
  assert_step build ThenSkip status skipped
  assert_step build ElseExecute status success
  assert_step build AbortWhen status skipped
  # Skipped steps count as successes, not as executed steps.
  assert_summary success 4 0 0
  assert_json "$DO" documents.0.phases.0.status success

  rm -f "$W"/*
  run_doc "$F/conditions.yaml" --parameters "Dir=$W,Flag=abort"
  assert_rc 1 "a condition that chooses Abort"
  assert_step build AbortWhen status failed
  assert_absent "$W/abort-when" "the step whose condition aborts"
  assert_absent "$W/last" "a step after an Abort branch"
  assert_json "$OUT" status failed
  assert_json "$OUT" failedStepCount 1
  assert_match "Abort" "$(step_get "$DO" build AbortWhen failureMessage)" \
    "failureMessage of the aborting step"
}

# ---- file-system modules -------------------------------------------------------------------------

file_mode() { stat -c %a "$1"; }
file_owner() { stat -c %U:%G "$1"; }

test_filesystem_modules() {
  local W owner group
  W=$(work_dir)
  if [ "$(id -u)" = 0 ]; then
    owner=nobody
    group=$(id -gn nobody)
  else
    owner=$(id -un)
    group=$(id -gn)
  fi
  run_doc "$F/filesystem.yaml" --parameters "Dir=$W,Owner=$owner,Group=$group"
  assert_rc 0
  assert_summary success 20 0 0

  # CreateFolder, CreateFile (parents made, explicit permissions), AppendFile.
  assert_eq 750 "$(file_mode "$W/private")" "mode of a folder made with permissions 0750"
  assert_file_eq "$W/src/sub/b.txt" beta
  assert_file_eq "$W/new/parents/made.txt" deep
  assert_eq 640 "$(file_mode "$W/src/c.log")" "mode of a file made with permissions 0640"
  # CopyFile (one file, and a wildcard into a folder), CopyFolder, MoveFile, MoveFolder.
  assert_absent "$W/copied/a-copy.txt" "the source of MoveFile"
  assert_absent "$W/moved" "a folder removed by DeleteFolder force"
  assert_absent "$W/wild" "an emptied folder removed by DeleteFolder"
  assert_absent "$W/tree" "the source of MoveFolder"
  assert_file_eq "$W/tree2/a.txt" alpha-more
  assert_file_eq "$W/tree2/sub/b.txt" beta
  assert_file_eq "$W/tree2/c.log" gamma
  # CreateSymlink, ReadFile through it, ListFiles.
  assert_eq "$W/src/a.txt" "$(readlink "$W/link.txt")" "symlink target"
  assert_file_eq "$W/read.txt" alpha-more
  assert_file_eq "$W/list.txt" "$W/src/a.txt,$W/src/sub/b.txt"
  assert_step build List outputs.@json.0.files "$W/src/a.txt,$W/src/sub/b.txt"
  # SetFileEncoding: UTF-16 little-endian with a byte-order mark.
  assert_eq "fffe6200650074006100" "$(od -An -tx1 "$W/encoded.txt" | tr -d ' \n')" \
    "bytes of encoded.txt"
  # SetFilePermissions; SetFolderPermissions is recursive by default.
  assert_eq 600 "$(file_mode "$W/src/a.txt")" "mode after SetFilePermissions 0600"
  assert_eq 700 "$(file_mode "$W/tree2")" "mode of the folder after SetFolderPermissions 0700"
  assert_eq 700 "$(file_mode "$W/tree2/sub/b.txt")" "mode inside it (recursive)"
  # SetFileOwner, SetFolderOwner (recursive by default).
  assert_eq "$owner:$group" "$(file_owner "$W/src/c.log")" "owner after SetFileOwner"
  assert_eq "$owner:$group" "$(file_owner "$W/tree2")" "owner after SetFolderOwner"
  assert_eq "$owner:$group" "$(file_owner "$W/tree2/sub/b.txt")" "owner inside it (recursive)"
}

test_filesystem_failure_message() {
  # A failing file-system step says which input item and why.
  local W
  W=$(work_dir)
  cat >"$W/doc.yaml" <<'EOF'
schemaVersion: 1.0
parameters:
  - Dir:
      type: string
phases:
  - name: build
    steps:
      - name: AppendMissing
        action: AppendFile
        inputs:
          - path: '{{ Dir }}/exists.txt'
            content: x
          - path: '{{ Dir }}/missing.txt'
            content: x
EOF
  touch "$W/exists.txt"
  run_doc "$W/doc.yaml" --parameters "Dir=$W"
  assert_rc 1
  assert_match 'AppendFile inputs\[1\]' "$(step_get "$DO" build AppendMissing failureMessage)" \
    "failureMessage of a failed AppendFile"
  assert_match "missing.txt" "$(step_get "$DO" build AppendMissing failureMessage)" \
    "failureMessage of a failed AppendFile"
}

# ---- loops ---------------------------------------------------------------------------------------

test_loops() {
  local W
  W=$(work_dir)
  run_doc "$F/loops.yaml" --parameters "Dir=$W"
  assert_rc 0
  # for, start 5 to 1 by -2: index and value.
  assert_file_eq "$W/countdown.txt" "0:5
1:3
2:1"
  # Consolidated stdout of the iterations, joined with a newline.
  assert_file_eq "$W/countdown-stdout.txt" "v5
v3
v1"
  assert_step build CountDown outputs '[{"stdout":"v5\nv3\nv1"}]'
  # forEach over a list.
  assert_file_eq "$W/each-stdout.txt" "red
green
blue"
  # forEach list+delimiter, named loop.
  assert_file_eq "$W/named.txt" "0=cyan
1=magenta
2=yellow"
  assert_step build Delimited loop.name colour
  assert_step build Delimited loop.iterations 3
  # Failed iterations are listed and not consolidated.
  assert_step build SomeFail status IgnoredFailure
  assert_step build SomeFail loop.failedIterations "[1,3]"
  assert_match "1, 3" "$(step_get "$DO" build SomeFail failureMessage)" \
    "failureMessage of a loop with failed iterations"
  assert_file_eq "$W/somefail-stdout.txt" "ok0
ok2"
  # Outside a loop, a loop reference stays as written.
  assert_file_eq "$W/literal.txt" "outside {{ loop.value }}"
  assert_step build Collect loop null
  assert_summary SuccessWithIgnoredFailure 5 0 1
}

# ---- chaining, env and context -------------------------------------------------------------------

test_chaining() {
  local W
  W=$(work_dir)
  run_doc "$F/chaining.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_file_eq "$W/copy-of-second.txt" two
  assert_file_eq "$W/first-path.txt" "$W/first.txt"
  assert_file_eq "$W/echo-out.txt" from-echo
  assert_file_eq "$W/cross.txt" "from-echo one"
  # Resolved inputs are recorded, single-object inputs as a one-item list.
  assert_step build UseThem inputs.@json.0.commands.0 "cat \"$W/second.txt\" > \"$W/copy-of-second.txt\""
  assert_step build Echo outputs '[{"stdout":"from-echo"}]'
  # chaining.json lists the chaining expressions.
  assert_contains "$LOG/chaining.json" "build.Make.inputs[1].path"
  assert_contains "$LOG/chaining.json" "build.Echo.outputs.stdout"
}

test_env_and_context() {
  local W
  W=$(work_dir)
  KILN_IT_GREETING="hi from env" run_doc "$F/context.yaml" --parameters "Dir=$W" \
    --execution-id ctx-run-7
  assert_rc 0
  assert_file_eq "$W/env.txt" "hi from env"
  assert_file_eq "$W/env-unset.txt" "[]"
  assert_file_eq "$W/execution-id.txt" ctx-run-7
  assert_file_eq "$W/where.txt" build.Where
  assert_file_eq "$W/there.txt" test.There
  assert_file_eq "$W/os-platform.txt" linux
  assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' "$(cat "$W/date.txt")" "context:date"
  assert_match '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
    "$(cat "$W/uuid.txt")" "context:uuid"
}

# ---- ExecuteBinary, ExecuteDocument, Assert -----------------------------------------------------

test_execute_binary() {
  local W
  W=$(work_dir)
  run_doc "$F/execute_binary.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_file_eq "$W/echo.txt" "hello world two  spaces"
  assert_step build Fails status IgnoredFailure
  assert_match "7" "$(step_get "$DO" build Fails failureMessage)" "failureMessage (exit code)"
  assert_match "oops" "$(step_get "$DO" build Fails failureMessage)" "failureMessage (stderr)"
  assert_summary SuccessWithIgnoredFailure 3 0 1
}

test_execute_document() {
  local W
  W=$(work_dir)
  run_doc "$F/execute_document.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_file_eq "$W/child-build.txt" teal
  assert_absent "$W/child-validate.txt" "the child's validate phase (phases: build,test)"
  assert_file_eq "$W/child-test.txt" test
  assert_file_eq "$W/child-status.txt" "success/2/0"
  # The nested run's detailed output is in the step.
  assert_step build RunChild detailedOutput.0.status success
  assert_step build RunChild detailedOutput.0.documents.0.name features-child
  assert_step build RunChild detailedOutput.0.documents.0.phases.0.name build
  assert_step build RunChild detailedOutput.0.documents.0.phases.1.name test
  assert_step build RunChild detailedOutput.0.documents.0.phases.1.steps.0.name ChildTest
  assert_eq "<missing: no index 2 in a list of 2>" \
    "$(step_get "$DO" build RunChild detailedOutput.0.documents.0.phases.2)" \
    "a third phase in the nested output"
  assert_step build RunChild outputs.@json.0.status success
  assert_step build Status detailedOutput null
}

test_execute_document_cycle() {
  local W
  W=$(work_dir)
  run_doc "$F/cycle.yaml" --parameters "Dir=$W"
  assert_rc 1 "a cycle of ExecuteDocument"
  assert_file_eq "$W/cycle.log" "top
back"
  assert_json "$OUT" status failed
  assert_contains "$OUT" "cycle" "failureMessage of a cycle"
}

test_execute_document_nesting() {
  local W
  W=$(work_dir)
  # Three levels below the top document (four documents) is the limit and works.
  run_doc "$F/docs/nest2.yaml" --parameters "Dir=$W"
  assert_rc 0 "three levels of ExecuteDocument"
  assert_file_eq "$W/nest5-ran.txt" leaf
  rm "$W/nest5-ran.txt"
  # Four levels fail.
  run_doc "$F/nest1.yaml" --parameters "Dir=$W"
  assert_rc 1 "four levels of ExecuteDocument"
  assert_absent "$W/nest5-ran.txt" "the fifth document"
  assert_contains "$OUT" "nesting" "failureMessage of too deep a nesting"
}

test_assert() {
  local W
  W=$(work_dir)
  run_doc "$F/assert.yaml" --parameters "Dir=$W"
  assert_rc 1 "a run with a false Assert (onFailure Continue)"
  assert_step build AssertTrue status success
  assert_step build AssertLogical status success
  assert_step build AssertFalse status failed
  assert_match "9.9.9" "$(step_get "$DO" build AssertFalse failureMessage)" \
    "failureMessage of a false Assert"
  assert_exists "$W/after.txt" "the step after a Continue"
  assert_summary failed 5 1 0
}

test_windows_only_module() {
  run_doc "$F/windows.yaml"
  assert_rc 1 "ExecutePowerShell on Linux"
  assert_step build PowerShell status failed
  assert_match "not supported on Linux" "$(step_get "$DO" build PowerShell failureMessage)" \
    "failureMessage of a Windows-only module"
}

# ---- output that is not UTF-8 ---------------------------------------------------------------------

test_non_utf8_output() {
  run_doc "$F/non_utf8.yaml"
  assert_rc 0 "a run whose steps print bytes that are not UTF-8"
  assert_summary SuccessWithIgnoredFailure 3 0 1
  python3 "$JSON_QUERY" valid "$DO" >/dev/null || fail "detailedoutput.json is not JSON"
  assert_step build Latin1 status success
  assert_step build FailsInLatin1 status IgnoredFailure
  assert_step build After status success
  assert_match "failure" "$(step_get "$DO" build FailsInLatin1 failureMessage)" \
    "failureMessage of a step whose stderr is not UTF-8"
}

# ---- what stays out of the logs ------------------------------------------------------------------

test_disable_logging() {
  local W secret
  W=$(work_dir)
  secret="s3cr3t-$(unique_marker)-value"
  run_doc "$F/secrets.yaml" --parameters "Dir=$W,Secret=$secret" --trace
  assert_rc 0
  assert_step build Hidden status success
  assert_step build HiddenFails status IgnoredFailure
  # The control: a step without disableLogging is logged.
  assert_contains "$LOG/console.log" "visible-output"
  assert_not_contains "$LOG/console.log" "$secret" "console.log"
  assert_not_contains "$DO" "$secret" "detailedoutput.json"
  assert_tree_not_contains "$LOG" "$secret" "the log folder"
  assert_not_contains "$OUT" "$secret" "stdout of kiln-toe"
  assert_not_contains "$ERR" "$secret" "stderr of kiln-toe --trace"
}

test_read_file_print_content() {
  local W quiet loud
  W=$(work_dir)
  quiet="quiet-$(unique_marker)"
  loud="loud-$(unique_marker)"
  printf '%s' "$quiet" >"$W/quiet.txt"
  printf '%s' "$loud" >"$W/loud.txt"
  run_doc "$F/readfile.yaml" --parameters "Dir=$W"
  assert_rc 0
  assert_file_eq "$W/quiet-copy.txt" "$quiet"
  assert_contains "$LOG/console.log" "$loud" "console.log (printFileContent: true)"
  assert_not_contains "$LOG/console.log" "$quiet" "console.log (printFileContent default false)"
}

# ---- cancelling ----------------------------------------------------------------------------------

test_sigterm_cancels() {
  local W marker pid
  W=$(work_dir)
  marker=$(unique_marker)
  OUT=$T/.stdout
  ERR=$T/.stderr
  "$KILN_TOE" run --documents "$F/sigterm.yaml" --log-directory "$T/logs" \
    --parameters "Dir=$W,Marker=$marker" >"$OUT" 2>"$ERR" &
  pid=$!
  BG_PIDS=$pid
  wait_for_process "sleep 100\\.$marker" 30 || {
    show_output
    fail "the step's sleep never started"
  }
  kill -TERM "$pid"
  RC=0
  wait "$pid" || RC=$?
  BG_PIDS=""
  assert_rc 130 "kiln-toe after SIGTERM"
  assert_no_process "sleep 100\\.$marker" 3
  assert_json "$OUT" status cancelled
  DO=$(json_get "$OUT" logUrl)/detailedoutput.json
  assert_json "$DO" status cancelled
  assert_step build Waits status cancelled
  assert_absent "$W/after.txt" "the step after a cancelled one"
  assert_absent "$T/logs/.kiln-toe-state/kiln-toe-state.json" "reboot state of a cancelled run"
}

run_test documents_validate test_documents_validate
run_test parameters test_parameters
run_test phases_in_document_order test_phases_in_document_order
run_test several_documents test_several_documents
run_test on_failure_abort test_on_failure_abort
run_test on_failure_continue test_on_failure_continue
run_test on_failure_ignore test_on_failure_ignore
run_test max_attempts test_max_attempts
run_test timeout_kills_process_group test_timeout_kills_process_group
run_test bash_semantics test_bash_semantics
run_test conditions test_conditions
run_test filesystem_modules test_filesystem_modules
run_test filesystem_failure_message test_filesystem_failure_message
run_test loops test_loops
run_test chaining test_chaining
run_test env_and_context test_env_and_context
run_test execute_binary test_execute_binary
run_test execute_document test_execute_document
run_test execute_document_cycle test_execute_document_cycle
run_test execute_document_nesting test_execute_document_nesting
run_test assert test_assert
run_test windows_only_module test_windows_only_module
run_test non_utf8_output test_non_utf8_output
run_test disable_logging test_disable_logging
run_test read_file_print_content test_read_file_print_content
run_test sigterm_cancels test_sigterm_cancels
finish
