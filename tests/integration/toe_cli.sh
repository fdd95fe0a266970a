#!/usr/bin/env bash
# kiln-toe's command line: help and version, validate, run's flags and --config, the log folder's
# name and files, and the summary JSON that is the whole of run's stdout.
# Usage: toe_cli.sh <kiln-toe binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

CLI=$DATA/cli
SUMMARY_KEYS=executedStepCount,executionId,failedStepCount,failureMessage,ignoredFailedStepCount,logUrl,status
UUID_V4='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# toe_folders DIR: the names of the TOE_ folders in DIR, one a line.
toe_folders() {
  if [ -d "$1" ]; then
    find "$1" -mindepth 1 -maxdepth 1 -name 'TOE_*' -printf '%f\n' | sort
  fi
}

# write_config FILE JSON: a config file; $W in JSON is the work folder.
write_config() {
  printf '%s\n' "$2" >"$1"
}

# ---- help and version -------------------------------------------------------------------------

test_help() {
  toe --help
  assert_rc 0 "kiln-toe --help"
  assert_contains "$OUT" run "--help output"
  assert_contains "$OUT" validate "--help output"

  toe run --help
  assert_rc 0 "kiln-toe run --help"
  local flag
  for flag in --documents --phases --parameters --execution-id --log-directory --state-directory \
    --config --trace; do
    assert_contains "$OUT" "$flag" "run --help"
  done

  toe validate --help
  assert_rc 0 "kiln-toe validate --help"
  assert_contains "$OUT" --documents "validate --help"
}

test_version() {
  toe --version
  assert_rc 0 "kiln-toe --version"
  assert_match '^kiln-toe [0-9]+\.[0-9]+\.[0-9]+' "$(head -n 1 "$OUT")" "--version output"
  toe -v
  assert_rc 0 "kiln-toe -v"
  assert_match '^kiln-toe [0-9]+\.[0-9]+\.[0-9]+' "$(head -n 1 "$OUT")" "-v output"
}

test_usage_errors() {
  toe
  assert_rc 2 "kiln-toe with no subcommand"
  toe frobnicate
  assert_rc 2 "kiln-toe frobnicate"
  toe run --documents "$CLI/good2.yaml" --no-such-flag
  assert_rc 2 "run --no-such-flag"
  toe validate
  assert_rc 2 "validate without --documents"
}

test_missing_documents() {
  toe run --log-directory "$T/logs"
  assert_rc 2 "run without --documents"
  assert_contains "$ERR" "--documents" "stderr of run without --documents"
  assert_contains "$ERR" "no documents" "stderr of run without --documents"
  if [ -s "$OUT" ]; then
    fail "run without --documents printed on stdout: $(cat "$OUT")"
  fi
  assert_eq "" "$(toe_folders "$T/logs")" "log folders after a usage error"
}

# ---- validate ---------------------------------------------------------------------------------

test_validate_good() {
  toe validate --documents "$CLI/good.yaml,$CLI/good2.yaml"
  assert_rc 0 "validate of two good documents"
  assert_contains "$OUT" "good.yaml: valid"
  assert_contains "$OUT" "good2.yaml: valid"
  toe validate -d "$CLI/good2.yaml"
  assert_rc 0 "validate -d"
}

test_validate_bad() {
  toe validate --documents "$CLI/good.yaml,$CLI/bad.yaml"
  assert_rc 1 "validate of a bad document"
  # file:line:column of each problem: the misspelt action, the unknown field, the reference.
  assert_contains "$ERR" "$CLI/bad.yaml:7:17: unknown action module 'ExecuteBashh'"
  assert_contains "$ERR" "did you mean 'ExecuteBash'"
  assert_contains "$ERR" "$CLI/bad.yaml:13:9: unknown field 'onFailur'"
  assert_contains "$ERR" "$CLI/bad.yaml:16:22:"
  assert_contains "$ERR" "Undeclared"
  # The good one is still reported valid, the bad one is not.
  assert_contains "$OUT" "good.yaml: valid"
  assert_not_contains "$OUT" "bad.yaml: valid"

  toe validate --documents "$CLI/syntax.yaml"
  assert_rc 1 "validate of a YAML syntax error"
  assert_match "$CLI/syntax.yaml:[0-9]+:[0-9]+: " "$(cat "$ERR")" "stderr for a syntax error"

  toe validate --documents "$T/no-such.yaml"
  assert_rc 1 "validate of a missing file"
  assert_contains "$ERR" "$T/no-such.yaml"
}

# ---- run: documents and parameters --------------------------------------------------------------

test_run_invalid_document() {
  run_doc "$CLI/good.yaml,$CLI/bad.yaml" --parameters "Dir=$T"
  assert_rc 2 "run with an invalid document"
  assert_contains "$ERR" "$CLI/bad.yaml:7:17:"
  assert_absent "$T/phases.txt" "output of the valid document (nothing runs when one is invalid)"
  assert_eq "" "$(toe_folders "$T/logs")" "log folders of a run that never started"

  run_doc "$T/missing.yaml"
  assert_rc 2 "run with a missing document"
  assert_contains "$ERR" "$T/missing.yaml"

  run_doc "arn:aws:imagebuilder:us-west-2:123456789012:component/x/1.0.0/1"
  assert_rc 2 "run with a component ARN"
  assert_contains "$ERR" "arn:aws:imagebuilder"
}

test_parameters_parsing() {
  local bad
  for bad in "Dir" "Dir=$T,Colour" "Dir=$T,Colour=" "=blue"; do
    run_doc "$CLI/good.yaml" --parameters "$bad"
    assert_rc 2 "--parameters '$bad'"
    assert_contains "$ERR" "--parameters" "stderr for --parameters '$bad'"
    assert_absent "$T/phases.txt" "output after --parameters '$bad'"
  done
  run_doc "$CLI/good.yaml" --parameters "Dir"
  assert_contains "$ERR" "not name=value" "stderr for a parameter without '='"
  run_doc "$CLI/good.yaml" --parameters "Dir=$T,Colour="
  assert_contains "$ERR" "empty value" "stderr for an empty parameter value"

  # Values may hold '='; names the document does not declare are ignored.
  run_doc "$CLI/good.yaml" --parameters "Dir=$T,Colour=a=b,Unknown=1"
  assert_rc 0
  assert_file_eq "$T/phases.txt" "build a=b circle
test a=b circle"
}

test_phases_flag() {
  run_doc "$CLI/good.yaml" --parameters "Dir=$T" --phases test
  assert_rc 0
  assert_file_eq "$T/phases.txt" "test red circle"
}

test_short_flags() {
  toe run -d "$CLI/good.yaml" -p build -i short-flags -l "$T/logs" --parameters "Dir=$T"
  assert_rc 0 "run with short flags"
  assert_file_eq "$T/phases.txt" "build red circle"
  assert_match '^TOE_.*_UTC-0_short-flags$' "$(toe_folders "$T/logs")" "log folder"
}

# ---- run: --config ------------------------------------------------------------------------------

config_with_everything() {
  write_config "$T/config.json" "{
  \"documents\": [{\"path\": \"$CLI/good.yaml\",
                   \"parameters\": [{\"name\": \"Dir\", \"value\": \"$T\"},
                                    {\"name\": \"Shape\", \"value\": \"square\"}]}],
  \"parameters\": [{\"name\": \"Colour\", \"value\": \"blue\"}],
  \"phases\": \"test\",
  \"logDirectory\": \"$T/config-logs\",
  \"executionId\": \"from-config\"
}"
}

test_config() {
  config_with_everything
  toe run --config "$T/config.json"
  assert_rc 0 "run --config"
  # documents (with their own parameters), parameters, phases: only test ran.
  assert_file_eq "$T/phases.txt" "test blue square"
  # logDirectory and executionId.
  assert_match '^TOE_[0-9_-]+_UTC-0_from-config$' "$(toe_folders "$T/config-logs")" \
    "log folder from the config"
  assert_json "$OUT" executionId from-config

  # phases as a list; the document's default parameters apply.
  rm -f "$T/phases.txt"
  write_config "$T/list.json" "{
  \"documents\": [{\"path\": \"$CLI/good.yaml\"}],
  \"parameters\": [{\"name\": \"Dir\", \"value\": \"$T\"}],
  \"phases\": [\"build\", \"test\"],
  \"logDirectory\": \"$T/list-logs\"
}"
  toe run -c "$T/list.json"
  assert_rc 0 "run -c with phases as a list"
  assert_file_eq "$T/phases.txt" "build red circle
test red circle"
}

test_config_flags_win() {
  config_with_everything
  toe run --config "$T/config.json" --execution-id from-flag --phases build \
    --log-directory "$T/flag-logs"
  assert_rc 0 "run --config with flags"
  assert_file_eq "$T/phases.txt" "build blue square"
  assert_match '^TOE_[0-9_-]+_UTC-0_from-flag$' "$(toe_folders "$T/flag-logs")" \
    "log folder named by the flags"
  assert_eq "" "$(toe_folders "$T/config-logs")" "log folders in the config's logDirectory"
  assert_json "$OUT" executionId from-flag
}

test_config_conflicts() {
  config_with_everything
  toe run --config "$T/config.json" --documents "$CLI/good2.yaml"
  assert_rc 2 "--config with documents and --documents"
  assert_contains "$ERR" "both" "stderr for documents given twice"

  toe run --config "$T/config.json" --parameters "Colour=green"
  assert_rc 2 "--config with parameters and --parameters"
  assert_contains "$ERR" "both" "stderr for parameters given twice"
  assert_absent "$T/phases.txt" "output of a refused run"
}

test_config_errors() {
  write_config "$T/unknown.json" "{\"documents\": [{\"path\": \"$CLI/good2.yaml\"}],
  \"executionID\": \"x\", \"logDirectory\": \"$T/logs\"}"
  toe run --config "$T/unknown.json"
  assert_rc 2 "config with an unknown key"
  assert_contains "$ERR" "executionID" "stderr for an unknown config key"
  assert_contains "$ERR" "did you mean 'executionId'" "stderr for an unknown config key"
  assert_eq "" "$(toe_folders "$T/logs")" "log folders of a refused config"

  write_config "$T/broken.json" "{\"documents\": ["
  toe run --config "$T/broken.json"
  assert_rc 2 "config that is not JSON"
  assert_contains "$ERR" "$T/broken.json"

  toe run --config "$T/no-such.json"
  assert_rc 2 "missing config file"
  assert_contains "$ERR" "$T/no-such.json"

  # A config without documents and no --documents: the usage error.
  write_config "$T/empty.json" "{\"logDirectory\": \"$T/logs\"}"
  toe run --config "$T/empty.json"
  assert_rc 2 "config without documents"
  assert_contains "$ERR" "no documents"

  # --documents with a config that has no documents is fine.
  toe run --config "$T/empty.json" --documents "$CLI/good2.yaml"
  assert_rc 0 "--documents with a config without documents"
}

# ---- the log folder and the summary --------------------------------------------------------------

test_log_folder() {
  local before after
  before=$(date -u +%s)
  run_doc "$CLI/good2.yaml" --execution-id my-run-42
  after=$(date -u +%s)
  assert_rc 0
  local folder
  folder=$(toe_folders "$T/logs")
  assert_match '^TOE_[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}-[0-9]{2}-[0-9]{2}_UTC-0_my-run-42$' \
    "$folder" "log folder name"
  # The time in the name is the run's start in UTC.
  local stamp
  stamp=$(python3 -c '
import calendar, sys, time
print(calendar.timegm(time.strptime(sys.argv[1][4:23], "%Y-%m-%d_%H-%M-%S")))' "$folder")
  if [ "$stamp" -lt $((before - 1)) ] || [ "$stamp" -gt $((after + 1)) ]; then
    fail "log folder time $stamp (UTC) is not within the run [$before, $after]"
  fi
  assert_eq "$(realpath "$T/logs/$folder")" "$(realpath "$(json_get "$OUT" logUrl)")" \
    "summary logUrl"
  local f
  for f in document.yaml application.log console.log detailedoutput.json chaining.json; do
    assert_exists "$T/logs/$folder/$f" "$f in the log folder"
  done
  cmp -s "$CLI/good2.yaml" "$T/logs/$folder/document.yaml" ||
    fail "document.yaml differs from the document that ran"
  python3 "$JSON_QUERY" valid "$T/logs/$folder/chaining.json" >/dev/null ||
    fail "chaining.json is not JSON"
  assert_contains "$T/logs/$folder/console.log" "hello" "console.log (step output)"
  assert_eq "documents,endTime,executionId,failureMessage,startTime,status" \
    "$(json_keys "$DO")" "keys of detailedoutput.json"
  assert_json "$DO" executionId my-run-42
}

test_execution_id_is_a_name() {
  # The execution id names one folder inside the log directory; a path is refused.
  local id
  for id in "../escaped" "a/b"; do
    run_doc "$CLI/good2.yaml" --execution-id "$id"
    assert_rc 2 "run --execution-id '$id'"
    assert_contains "$ERR" "execution" "stderr for --execution-id '$id'"
  done
  assert_absent "$T/escaped" "a log folder outside the log directory"
  assert_eq "" "$(find "$T/logs" -mindepth 1 2>/dev/null)" "what the refused runs left in the log directory"
}

test_default_execution_id_and_log_directory() {
  # No --execution-id: a UUID v4. No --log-directory: the working directory.
  toe run --documents "$CLI/good2.yaml"
  assert_rc 0
  local id
  id=$(json_get "$OUT" executionId)
  assert_match "$UUID_V4" "$id" "default execution id"
  assert_match "^TOE_[0-9_-]+_UTC-0_$id\$" "$(toe_folders "$T")" "log folder in the working directory"
  # Two runs get two ids.
  toe run --documents "$CLI/good2.yaml"
  [ "$(json_get "$OUT" executionId)" != "$id" ] || fail "two runs got the same execution id $id"
}

test_stdout_is_the_summary() {
  run_doc "$CLI/good2.yaml" --execution-id summary-run
  assert_rc 0
  python3 "$JSON_QUERY" valid "$OUT" >/dev/null || {
    show_output
    fail "stdout is not exactly one JSON value"
  }
  assert_eq "$SUMMARY_KEYS" "$(json_keys "$OUT")" "keys of the summary"
  assert_summary success 1 0 0
  assert_json "$OUT" executionId summary-run
  assert_json "$OUT" failureMessage ""

  # --trace: step output reaches stderr, stdout stays the summary alone.
  run_doc "$CLI/good2.yaml" --trace
  assert_rc 0 "run --trace"
  python3 "$JSON_QUERY" valid "$OUT" >/dev/null || fail "stdout with --trace is not only JSON"
  assert_eq "$SUMMARY_KEYS" "$(json_keys "$OUT")" "keys of the summary with --trace"
  assert_contains "$ERR" "hello" "stderr with --trace (step output)"
}

test_failed_run() {
  run_doc "$CLI/failing.yaml" --execution-id failing
  assert_rc 1 "a run whose step fails"
  assert_eq "$SUMMARY_KEYS" "$(json_keys "$OUT")" "keys of a failed run's summary"
  assert_summary failed 1 1 0
  assert_contains "$OUT" "failing.yaml" "failureMessage names the document"
  assert_contains "$OUT" "something broke" "failureMessage holds the stderr tail"
  assert_json "$DO" status failed
}

test_compat_flags() {
  run_doc "$CLI/good2.yaml" --cw-log-group g --cw-log-stream s --cw-ignore-failures
  assert_rc 0 "run with CloudWatch flags"
  assert_contains "$ERR" "warning" "stderr for ignored CloudWatch flags"
  python3 "$JSON_QUERY" valid "$OUT" >/dev/null || fail "stdout with warnings is not only JSON"
}

run_test help test_help
run_test version test_version
run_test usage_errors test_usage_errors
run_test missing_documents test_missing_documents
run_test validate_good test_validate_good
run_test validate_bad test_validate_bad
run_test run_invalid_document test_run_invalid_document
run_test parameters_parsing test_parameters_parsing
run_test phases_flag test_phases_flag
run_test short_flags test_short_flags
run_test config test_config
run_test config_flags_win test_config_flags_win
run_test config_conflicts test_config_conflicts
run_test config_errors test_config_errors
run_test log_folder test_log_folder
run_test execution_id_is_a_name test_execution_id_is_a_name
run_test default_execution_id_and_log_directory test_default_execution_id_and_log_directory
run_test stdout_is_the_summary test_stdout_is_the_summary
run_test failed_run test_failed_run
run_test compat_flags test_compat_flags
finish
