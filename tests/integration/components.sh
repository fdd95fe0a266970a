#!/usr/bin/env bash
# The component documents kiln ships: every YAML under components/ and examples/*/components/
# is valid for kiln-toe; components/managed.json lists exactly the documents of components/,
# with the fields kiln's catalog reads; the example recipes name components that exist; the
# components that need nothing but a shell run on the host (hello-world-linux).
# Usage: components.sh <kiln-toe binary> <source dir> [<build dir>]
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

every_document_validates() {
  local count=0 f
  while IFS= read -r f; do
    toe validate --documents "$f"
    if [ "$RC" != 0 ]; then
      show_output
      fail "kiln-toe validate $f: exit code $RC"
    fi
    assert_contains "$OUT" "$f: valid" "kiln-toe validate's stdout"
    count=$((count + 1))
  done < <(find "$SRC/components" "$SRC/examples" -name '*.yaml' -path '*components/*' | sort)
  [ "$count" -ge 10 ] || fail "expected at least 10 component documents, found $count"
}

managed_json_matches_folder() {
  python3 - "$SRC/components" <<'PY' || fail "components/managed.json does not match components/"
import json, os, re, sys
folder = sys.argv[1]
problems = []
with open(os.path.join(folder, "managed.json")) as f:
    data = json.load(f)
if set(data) != {"components"} or not isinstance(data["components"], list):
    sys.exit("managed.json: expected exactly one key, components, holding a list")
files = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
listed = []
names = set()
required = {"name", "semanticVersion", "description", "file", "platform"}
for i, c in enumerate(data["components"]):
    where = f"components[{i}]"
    missing = required - set(c)
    unknown = set(c) - required - {"supportedOsVersions"}
    if missing:
        problems.append(f"{where}: missing {sorted(missing)}")
    if unknown:
        problems.append(f"{where}: unknown fields {sorted(unknown)}")
    name = c.get("name", "")
    if name in names:
        problems.append(f"{where}: duplicate name {name}")
    names.add(name)
    if not re.fullmatch(r"[-_A-Za-z0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z0-9]", name):
        problems.append(f"{where}: invalid component name {name!r}")
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", c.get("semanticVersion", "")):
        problems.append(f"{where}: semanticVersion must be major.minor.patch")
    if c.get("platform") != "Linux":
        problems.append(f"{where}: platform must be Linux")
    if not c.get("description"):
        problems.append(f"{where}: empty description")
    osv = c.get("supportedOsVersions")
    if osv is not None and (not isinstance(osv, list) or not osv or not all(isinstance(v, str) and v for v in osv)):
        problems.append(f"{where}: supportedOsVersions must be a non-empty list of strings")
    file = c.get("file", "")
    listed.append(file)
    path = os.path.join(folder, file)
    if os.path.isfile(path):
        # The document's own name is the component's name.
        with open(path) as d:
            m = re.search(r"^name:\s*(\S+)\s*$", d.read(), re.M)
        if not m or m.group(1) != name:
            problems.append(f"{where}: {file} names itself {m.group(1) if m else '(nothing)'}, not {name}")
if sorted(listed) != files:
    problems.append(f"managed.json lists {sorted(listed)}, the folder holds {files}")
for p in problems:
    print("    " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# Each example recipe's `path:` components exist, and its managed components are in managed.json.
recipes_name_existing_components() {
  python3 - "$SRC" <<'PY' || fail "an example recipe names a component that does not exist"
import json, os, re, sys
src = sys.argv[1]
with open(os.path.join(src, "components", "managed.json")) as f:
    managed = {c["name"] for c in json.load(f)["components"]}
problems = []
recipes = 0
for root, _, names in os.walk(os.path.join(src, "examples")):
    if "recipe.yaml" not in names:
        continue
    recipes += 1
    recipe = os.path.join(root, "recipe.yaml")
    text = open(recipe).read()
    for key in ("name", "semanticVersion", "parentImage", "components"):
        if not re.search(rf"^{key}:", text, re.M):
            problems.append(f"{recipe}: no {key}")
    for path in re.findall(r"^\s*-?\s*path:\s*(\S+)\s*$", text, re.M):
        if not os.path.isfile(os.path.join(root, path)):
            problems.append(f"{recipe}: component file {path} does not exist")
    for name in re.findall(r"componentArn:\s*arn:aws:imagebuilder:[^:]+:aws:component/([^/\s]+)/", text):
        if name not in managed:
            problems.append(f"{recipe}: managed component {name} is not in components/managed.json")
if recipes < 3:
    problems.append(f"expected at least 3 example recipes, found {recipes}")
for p in problems:
    print("    " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

hello_world_runs() {
  run_doc "$SRC/components/hello-world-linux.yaml" --parameters Greeting=kiln-it
  assert_rc 0
  assert_summary success 3 0 0
  assert_contains "$LOG/console.log" "test phase: kiln-it"
}

run_test every_document_validates every_document_validates
run_test managed_json_matches_folder managed_json_matches_folder
run_test recipes_name_existing_components recipes_name_existing_components
run_test hello_world_runs hello_world_runs
finish
