#!/usr/bin/env bash
# A hand-made mutation sample of the security boundaries (docs/security/mutation.md): each mutant
# is one small wrong change to the code that checks signatures, credentials, archive entries or
# paths. For each, the script changes the file in place, builds the unit test that should notice,
# runs it, and puts the file back. A mutant is "killed" when the build or the test fails, and
# "SURVIVED" when every test still passes: a hole in the tests. Not part of CI (it rebuilds one
# test binary per mutant); run it after changing these files or their tests.
#
#   scripts/mutation-sample.sh [build dir, default build] [mutant ids...]
#
# The files it mutates must have no uncommitted changes (it refuses otherwise); an interrupted run
# puts the file back (trap). Any configured build tree works; a sanitizer tree (build-asan) also
# counts a memory error a mutant causes as a kill.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
only=("$@")

# One mutant per line, its fields separated by ' ~~ ': id, file, the exact text to change (it
# must occur once; \n is a newline), its replacement, the unit test target, a gtest filter, and
# what the mutant breaks. docs/security/mutation.md has the table of the last run.
mutants=(
  'sig-half ~~ src/kiln/api/sigv4.cpp ~~ CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0 ~~ CRYPTO_memcmp(a.data(), b.data(), a.size() / 2) == 0 ~~ kiln_api_test ~~ SigV4Test.* ~~ only the first half of the signature is compared'
  'sig-longer ~~ src/kiln/api/sigv4.cpp ~~ if (a.size() != b.size()) { ~~ if (a.size() > b.size()) { ~~ kiln_api_test ~~ SigV4Test.* ~~ a signature with more characters after the right ones is accepted'
  'sig-skew ~~ src/kiln/api/sigv4.cpp ~~ if (*signed_at + options.max_skew < now) { ~~ if (*signed_at + 2 * options.max_skew < now) { ~~ kiln_api_test ~~ SigV4Test.* ~~ signatures stay valid for 30 minutes instead of 15'
  'sig-host ~~ src/kiln/api/sigv4.cpp ~~ if (!is_signed("host")) { ~~ if (false) { ~~ kiln_api_test ~~ SigV4Test.* ~~ Host need not be signed'
  'sig-token ~~ src/kiln/api/sigv4.cpp ~~ if (request.header("X-Amz-Security-Token")) { ~~ if (false) { ~~ kiln_api_test ~~ SigV4Test.* ~~ session tokens are ignored'
  'sig-sha256 ~~ src/kiln/api/sigv4.cpp ~~ if (*declared != payload_hash) { ~~ if (false) { ~~ kiln_api_test ~~ SigV4Test.* ~~ X-Amz-Content-Sha256 is not checked'
  'sig-region ~~ src/kiln/api/sigv4.cpp ~~ if (!options.region.empty() && auth.region != options.region) { ~~ if (false) { ~~ kiln_api_test ~~ SigV4Test.* ~~ a signature for any region is accepted'
  'sig-date ~~ src/kiln/api/sigv4.cpp ~~ if (auth.date != amz_date->substr(0, 8)) { ~~ if (false) { ~~ kiln_api_test ~~ SigV4Test.* ~~ the scope'\''s date need not be X-Amz-Date'\''s'
  'key-any ~~ src/kiln/api/sigv4.cpp ~~ auto secret = credentials.find(auth.access_key_id); ~~ auto secret = credentials.begin(); ~~ kiln_api_test ~~ SigV4Test.* ~~ the first key'\''s secret verifies any access key id'
  'cred-half ~~ src/kiln/api/server.cpp ~~ if (key_id.empty() || secret.empty()) { ~~ if (key_id.empty()) { ~~ kiln_api_test ~~ CredentialsTest.* ~~ a profile with an access key and no secret gives a key whose secret is empty'
  'cred-profiles ~~ src/kiln/api/server.cpp ~~           KILN_TRY(flush());\n          profile = ~~           profile = ~~ kiln_api_test ~~ CredentialsTest.* ~~ a new [profile] does not end the previous one'
  'tar-absolute ~~ src/kiln/store/tar_path.cpp ~~ if (!name.empty() && name.front() == '\''/'\'') { ~~ if (false) { ~~ kiln_layer_test ~~ * ~~ absolute entry names are accepted (made relative)'
  'tar-dotdot ~~ src/kiln/store/tar_path.cpp ~~ if (component == "..") { ~~ if (component == ".." && pos > name.size()) { ~~ kiln_layer_test ~~ * ~~ only a final .. component is refused'
  'tar-whiteout ~~ src/kiln/store/tar_path.cpp ~~ if (target.empty() || target == "." || target == "..") { ~~ if (target.empty() || target == ".") { ~~ kiln_layer_test ~~ * ~~ the whiteout .wh.. (deleting the parent) is accepted'
  'layer-budget ~~ src/kiln/store/layer_reader.cpp ~~     KILN_TRY(budget_.charge(e, raw));\n ~~  ~~ kiln_layer_test ~~ * ~~ the size and entry limits are never charged'
  'layer-nofollow ~~ src/kiln/store/dir_fd.cpp ~~ constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC; ~~ constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC; ~~ kiln_layer_test ~~ * ~~ parent directories are opened through symlinks'
  'version-patch ~~ src/kiln/catalog/version.cpp ~~ (!patch_ || *patch_ == version.patch) ~~ (!patch_ || *patch_ <= version.patch) ~~ kiln_catalog_test ~~ * ~~ the filter 1.2.3 also matches 1.2.4'
  'version-minor ~~ src/kiln/catalog/version.cpp ~~ (!minor_ || *minor_ == version.minor) ~~ (!minor_ || *minor_ <= version.minor) ~~ kiln_catalog_test ~~ * ~~ the filter 1.2.x also matches 1.3.0'
  'state-build ~~ src/kiln/state/catalog_impl.cpp ~~ if (filter.matches(row.version) && (!arn.build || *arn.build == row.build)) { ~~ if (filter.matches(row.version)) { ~~ kiln_state_test ~~ * ~~ an ARN'\''s build number is ignored when it is resolved'
  'toe-follow ~~ src/kiln/toe/file_paths.cpp ~~ follow ? fs::status(path, ec) : fs::symlink_status(path, ec) ~~ (follow || true) ? fs::status(path, ec) : fs::symlink_status(path, ec) ~~ kiln_toe_test ~~ * ~~ file modules follow a final symlink they were told not to'
)

[ -d "$build" ] || { echo "no build tree $build (configure one first)" >&2; exit 2; }

restore=""
put_back() {
  if [ -n "$restore" ]; then
    cp "$restore" "${restore%.mutation-orig}"
    # A new mtime: the build must compile the original again, not keep the mutant's object.
    touch "${restore%.mutation-orig}"
    rm -f "$restore"
    restore=""
  fi
}
trap put_back EXIT INT TERM

killed=0
survived=()
printf '%-16s %-10s %s\n' mutant result "file:line, test" >&2
for entry in "${mutants[@]}"; do
  IFS=$'\x1f' read -r id file old new target filter what <<<"${entry// ~~ /$'\x1f'}"
  if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qxF "$id"; then
    continue
  fi
  if ! git diff --quiet HEAD -- "$file"; then
    echo "$file has uncommitted changes: commit or stash them first" >&2
    exit 2
  fi
  cp -p "$file" "$file.mutation-orig"
  restore=$file.mutation-orig
  line=$(OLD=$old NEW=$new python3 - "$file" <<'PY'
import os, sys
path = sys.argv[1]
old = os.environ["OLD"].replace("\\n", "\n")
new = os.environ["NEW"].replace("\\n", "\n")
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: the mutant's text occurs {text.count(old)} times, not once: {old!r}")
print(text[: text.index(old)].count("\n") + 1)
open(path, "w").write(text.replace(old, new))
PY
  )
  result=killed
  how=""
  if ! nice cmake --build "$build" --target "$target" >"$build/mutation-$id.log" 2>&1; then
    how="does not build"
  elif ! "$build/src/kiln/$target" --gtest_filter="$filter" >>"$build/mutation-$id.log" 2>&1; then
    how=$(grep -E '^\[  FAILED  \] [A-Za-z]' "$build/mutation-$id.log" | grep -v ' listed below' |
      sed -E 's/^\[  FAILED  \] ([^ ,]+).*/\1/' | sort -u | head -3 | tr '\n' ' ')
    [ -n "$how" ] || how="crash ($(grep -m1 -oE 'ERROR: AddressSanitizer: [a-z-]+|runtime error' "$build/mutation-$id.log" || echo 'non-zero exit'))"
  else
    result=SURVIVED
    survived+=("$id")
  fi
  put_back
  [ "$result" = killed ] && killed=$((killed + 1))
  printf '%-16s %-10s %s:%s, %s %s\n' "$id" "$result" "$file" "$line" "$target" "$how" >&2
  echo "    ($what)" >&2
done
# The tree as it was, rebuilt.
for entry in "${mutants[@]}"; do
  target=${entry#* ~~ * ~~ * ~~ * ~~ }
  echo "${target%% ~~ *}"
done | sort -u | xargs nice cmake --build "$build" --target >/dev/null 2>&1 || true
echo "=== $killed killed, ${#survived[@]} survived${survived[*]:+: ${survived[*]}}" >&2
[ ${#survived[@]} -eq 0 ]
