#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2030,SC2031,SC2016  # functions run by run_kiln_test; $T per test
# The Image Builder resource verbs of the real `kiln` binary (create-component, get-image-recipe,
# list-images, ...) over a temporary root: AWS's response shapes, build and version
# auto-increments, the YAML round trip of get into create, managed components, bad input refused
# with nothing stored, configurations, local regions, and an image record PENDING then
# CANCELLED. Needs no root and builds nothing.
# Usage: kiln_resources.sh <kiln binary> <source dir> <build dir>
set -euo pipefail
# shellcheck source=tests/integration/kiln_lib.sh
source "$(dirname "$0")/kiln_lib.sh" "$@"
export KILN_COMPONENTS_DIR=$SRC/components
unset KILN_REGION KILN_ACCOUNT_ID

ARN_PREFIX=arn:aws:imagebuilder:local:000000000000

# ---- helpers --------------------------------------------------------------------------------

# out_field PATH: a field of the last kiln's JSON stdout.
out_field() {
  json_get "$OUT" "$1"
}

# write_component FILE GREETING: a small valid component document.
write_component() {
  cat >"$1" <<EOF
name: greeter
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        inputs:
          commands:
            - echo "$2"
EOF
}

# make_component NAME VERSION GREETING: create-component from a file; its ARN in $ARN.
make_component() {
  write_component "$T/$1.yaml" "$3"
  kiln_ok create-component --name "$1" --semantic-version "$2" --platform Linux \
    --file "$T/$1.yaml"
  ARN=$(out_field componentBuildVersionArn)
}

# assert_refused WHAT ARGS...: kiln fails with a non-zero exit code and a "kiln: error:" line.
assert_refused() {
  local what=$1
  shift
  kiln_fails "$@"
  assert_contains "$ERR" "kiln: error:" "stderr of $what"
}

# count_of VERB MEMBER ARGS...: how many entries `kiln VERB --output json` lists.
count_of() {
  local verb=$1 member=$2
  shift 2
  kiln_ok "$verb" --output json "$@"
  python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$OUT" "$member"
}

# ---- components -----------------------------------------------------------------------------

test_component_builds() {
  make_component web-setup 1.0.0 hello
  assert_eq "$ARN_PREFIX:component/web-setup/1.0.0/1" "$ARN" "first build"
  assert_match '^[0-9a-f-]{36}$' "$(out_field requestId)" "requestId"
  assert_match '.+' "$(out_field clientToken)" "clientToken"

  # The same document again: the same build.
  kiln_ok create-component --name web-setup --semantic-version 1.0.0 --platform Linux \
    --file "$T/web-setup.yaml"
  assert_eq "$ARN_PREFIX:component/web-setup/1.0.0/1" "$(out_field componentBuildVersionArn)" \
    "unchanged document"

  # A changed document: the next build.
  make_component web-setup 1.0.0 "hello again"
  assert_eq "$ARN_PREFIX:component/web-setup/1.0.0/2" "$ARN" "changed document"

  kiln_ok get-component --component-build-version-arn "$ARN_PREFIX:component/web-setup/1.0.0/2"
  assert_json "$OUT" component.name web-setup
  assert_json "$OUT" component.version 1.0.0
  assert_json "$OUT" component.type BUILD
  assert_json "$OUT" component.platform Linux
  assert_contains "$OUT" "hello again"
  assert_match '.+' "$(out_field requestId)" "get-component requestId"

  # A version ARN picks the newest build.
  kiln_ok get-component --component-build-version-arn "$ARN_PREFIX:component/web-setup/1.0.0"
  assert_json "$OUT" component.arn "$ARN_PREFIX:component/web-setup/1.0.0/2"

  assert_eq 2 "$(count_of list-component-build-versions componentSummaryList \
    --component-version-arn "$ARN_PREFIX:component/web-setup/1.0.0")" "builds of 1.0.0"
  kiln_ok list-component-build-versions --component-version-arn \
    "$ARN_PREFIX:component/web-setup/1.0.0"
  assert_contains "$OUT" "ARN" "table header"
  assert_contains "$OUT" "$ARN_PREFIX:component/web-setup/1.0.0/1"

  make_component other 2.1.0 hi
  kiln_ok list-components
  assert_contains "$OUT" "NAME" "list-components table header"
  assert_contains "$OUT" "web-setup"
  assert_contains "$OUT" "other"
  assert_eq 2 "$(count_of list-components componentVersionList)" "components of Self"
  assert_eq 1 "$(count_of list-components componentVersionList --filters name=name,values=other)" \
    "components named other"

  kiln_ok delete-component --component-build-version-arn "$ARN_PREFIX:component/other/2.1.0/1"
  assert_json "$OUT" componentBuildVersionArn "$ARN_PREFIX:component/other/2.1.0/1"
  assert_eq 1 "$(count_of list-components componentVersionList)" "components after delete"
  kiln_fails get-component --component-build-version-arn "$ARN_PREFIX:component/other/2.1.0/1"
  assert_contains "$ERR" "ResourceNotFoundException"
}

test_component_yaml_round_trip() {
  make_component round-trip 1.2.3 "round trip"
  kiln_ok get-component --component-build-version-arn "$ARN" --output yaml
  cp "$OUT" "$T/component.yaml"
  assert_contains "$T/component.yaml" "semanticVersion: 1.2.3"
  assert_contains "$T/component.yaml" "data: |"
  assert_not_contains "$T/component.yaml" "arn:" "the create request"
  assert_not_contains "$T/component.yaml" "dateCreated" "the create request"
  assert_not_contains "$T/component.yaml" "owner" "the create request"

  # Created again from its own YAML: the same build, the same YAML.
  kiln_ok create-component --cli-input-yaml "$T/component.yaml"
  assert_eq "$ARN" "$(out_field componentBuildVersionArn)" "create from get's YAML"
  kiln_ok get-component --component-build-version-arn "$ARN" --output yaml
  if ! diff -u "$T/component.yaml" "$OUT" >&2; then
    fail "the YAML of the component changed across the round trip"
  fi

  # Under another name, the YAML makes a new component with the same document.
  sed 's/^name: round-trip$/name: round-copy/' "$T/component.yaml" >"$T/copy.yaml"
  kiln_ok create-component --cli-input-yaml "file://$T/copy.yaml"
  assert_eq "$ARN_PREFIX:component/round-copy/1.2.3/1" "$(out_field componentBuildVersionArn)"

  # JSON input too; flags win over the file's members.
  kiln_ok get-component --component-build-version-arn "$ARN"
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["component"]; print(json.dumps({"name": c["name"], "semanticVersion": c["version"], "platform": c["platform"], "data": c["data"]}))' \
    "$OUT" >"$T/component.json"
  kiln_ok create-component --cli-input-json "$T/component.json" --semantic-version 1.2.4
  assert_eq "$ARN_PREFIX:component/round-trip/1.2.4/1" "$(out_field componentBuildVersionArn)"
}

test_bad_components() {
  write_component "$T/good.yaml" hi
  printf 'name: broken\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: S\n        action: NoSuchAction\n' \
    >"$T/broken.yaml"
  assert_refused "an invalid document" create-component --name broken --semantic-version 1.0.0 \
    --platform Linux --file "$T/broken.yaml"
  assert_contains "$ERR" "NoSuchAction"
  assert_refused "a bad version" create-component --name c --semantic-version 1.0 \
    --platform Linux --file "$T/good.yaml"
  assert_refused "a wildcard version" create-component --name c --semantic-version 1.0.x \
    --platform Linux --file "$T/good.yaml"
  assert_refused "a bad name" create-component --name '!bad!' --semantic-version 1.0.0 \
    --platform Linux --file "$T/good.yaml"
  assert_refused "no platform" create-component --name c --semantic-version 1.0.0 \
    --file "$T/good.yaml"
  assert_refused "a missing file" create-component --name c --semantic-version 1.0.0 \
    --platform Linux --file "$T/missing.yaml"
  assert_refused "a uri" create-component --name c --semantic-version 1.0.0 --platform Linux \
    --uri s3://bucket/doc.yaml
  printf 'name: c\nsemanticVersoin: 1.0.0\n' >"$T/typo.yaml"
  assert_refused "an unknown member" create-component --cli-input-yaml "$T/typo.yaml"
  assert_contains "$ERR" 'did you mean "semanticVersion"'
  printf 'name: [unclosed\n' >"$T/syntax.yaml"
  assert_refused "a YAML syntax error" create-component --cli-input-yaml "$T/syntax.yaml"
  kiln_fails list-components --output xml
  assert_refused "a malformed ARN" get-component --component-build-version-arn nonsense
  assert_refused "an unknown component" get-component \
    --component-build-version-arn "$ARN_PREFIX:component/nothing/1.0.0/1"
  assert_contains "$ERR" "ResourceNotFoundException"
  assert_eq 0 "$(count_of list-components componentVersionList)" "components after bad input"
}

test_managed_components() {
  kiln_ok list-components --owner Amazon
  assert_contains "$OUT" "hello-world-linux"
  assert_contains "$OUT" "update-linux"
  kiln_ok get-component --component-build-version-arn \
    arn:aws:imagebuilder:us-west-2:aws:component/hello-world-linux/x.x.x
  assert_json "$OUT" component.name hello-world-linux
  assert_json "$OUT" component.owner aws
}

# ---- recipes --------------------------------------------------------------------------------

# write_recipe FILE VERSION COMPONENT_ARN...: a CreateImageRecipe request in YAML.
write_recipe() {
  local file=$1 version=$2
  shift 2
  {
    echo "name: web-server"
    echo "semanticVersion: $version"
    echo "description: A web server"
    echo "parentImage: $ARN_PREFIX:image/base/1.0.0"
    echo "components:"
    local arn
    for arn in "$@"; do
      echo "  - componentArn: $arn"
    done
    echo "workingDirectory: /opt/work"
  } >"$file"
}

test_recipes() {
  make_component web-setup 1.0.0 hello
  local managed=arn:aws:imagebuilder:us-west-2:aws:component/hello-world-linux/x.x.x
  write_recipe "$T/recipe.yaml" 1.0.x "$ARN" "$managed"
  kiln_ok create-image-recipe --cli-input-yaml "$T/recipe.yaml"
  local first
  first=$(out_field imageRecipeArn)
  assert_eq "$ARN_PREFIX:image-recipe/web-server/1.0.0" "$first" "1.0.x, first"

  # Unchanged: the same recipe; changed: the next patch.
  kiln_ok create-image-recipe --cli-input-yaml "$T/recipe.yaml"
  assert_eq "$first" "$(out_field imageRecipeArn)" "1.0.x, unchanged"
  write_recipe "$T/recipe2.yaml" 1.0.x "$ARN"
  kiln_ok create-image-recipe --cli-input-yaml "$T/recipe2.yaml"
  assert_eq "$ARN_PREFIX:image-recipe/web-server/1.0.1" "$(out_field imageRecipeArn)" \
    "1.0.x, changed"

  kiln_ok get-image-recipe --image-recipe-arn "$first"
  assert_json "$OUT" imageRecipe.name web-server
  assert_json "$OUT" imageRecipe.version 1.0.0
  assert_json "$OUT" imageRecipe.workingDirectory /opt/work
  assert_json "$OUT" imageRecipe.components.1.componentArn "$managed"

  kiln_ok get-image-recipe --image-recipe-arn "$first" --output table
  assert_contains "$OUT" "components[0].componentArn"

  # The YAML of get creates the same recipe under another name.
  kiln_ok get-image-recipe --image-recipe-arn "$first" --output yaml
  assert_not_contains "$OUT" "dateCreated" "the recipe's create request"
  sed 's/^name: web-server$/name: web-copy/' "$OUT" >"$T/copy.yaml"
  kiln_ok create-image-recipe --cli-input-yaml "$T/copy.yaml"
  local copy
  copy=$(out_field imageRecipeArn)
  assert_eq "$ARN_PREFIX:image-recipe/web-copy/1.0.0" "$copy"
  kiln_ok get-image-recipe --image-recipe-arn "$copy" --output yaml
  sed 's/^name: web-copy$/name: web-server/' "$OUT" >"$T/copy-back.yaml"
  kiln_ok get-image-recipe --image-recipe-arn "$first" --output yaml
  if ! diff -u "$OUT" "$T/copy-back.yaml" >&2; then
    fail "the recipe's YAML changed across the round trip"
  fi

  assert_eq 3 "$(count_of list-image-recipes imageRecipeSummaryList)" "recipes"
  kiln_ok list-image-recipes
  assert_contains "$OUT" "web-copy"

  # A component a recipe uses cannot be deleted; the recipe can.
  assert_refused "deleting a used component" delete-component \
    --component-build-version-arn "$ARN"
  kiln_ok delete-image-recipe --image-recipe-arn "$copy"
  assert_json "$OUT" imageRecipeArn "$copy"
  assert_eq 2 "$(count_of list-image-recipes imageRecipeSummaryList)" "recipes after delete"
}

test_bad_recipes() {
  make_component web-setup 1.0.0 hello
  write_recipe "$T/unknown.yaml" 1.0.0 "$ARN_PREFIX:component/nothing/1.0.0/1"
  assert_refused "an unknown component" create-image-recipe --cli-input-yaml "$T/unknown.yaml"
  write_recipe "$T/none.yaml" 1.0.0
  assert_refused "no components" create-image-recipe --cli-input-yaml "$T/none.yaml"
  write_recipe "$T/bad-version.yaml" x.2.x "$ARN"
  assert_refused "a bad version" create-image-recipe --cli-input-yaml "$T/bad-version.yaml"
  grep -v parentImage "$T/bad-version.yaml" | sed 's/x.2.x/1.0.0/' >"$T/no-parent.yaml"
  assert_refused "no parent image" create-image-recipe --cli-input-yaml "$T/no-parent.yaml"
  assert_refused "a missing input file" create-image-recipe --cli-input-yaml "$T/missing.yaml"
  echo '{"name": ' >"$T/bad.json"
  assert_refused "bad JSON" create-image-recipe --cli-input-json "$T/bad.json"
  assert_eq 0 "$(count_of list-image-recipes imageRecipeSummaryList)" "recipes after bad input"
}

# ---- configurations and regions -------------------------------------------------------------

test_configurations() {
  kiln_ok create-infrastructure-configuration --name builders --instance-profile-name kiln \
    --instance-types t3.small --description "small builders"
  local infra
  infra=$(out_field infrastructureConfigurationArn)
  assert_eq "$ARN_PREFIX:infrastructure-configuration/builders" "$infra"
  kiln_ok get-infrastructure-configuration --infrastructure-configuration-arn "$infra"
  assert_json "$OUT" infrastructureConfiguration.instanceTypes '["t3.small"]'
  assert_json "$OUT" infrastructureConfiguration.description "small builders"

  kiln_ok update-infrastructure-configuration --infrastructure-configuration-arn "$infra" \
    --instance-profile-name kiln --instance-types t3.large --no-terminate-instance-on-failure
  assert_json "$OUT" infrastructureConfigurationArn "$infra"
  kiln_ok get-infrastructure-configuration --infrastructure-configuration-arn "$infra"
  assert_json "$OUT" infrastructureConfiguration.instanceTypes '["t3.large"]'
  assert_json "$OUT" infrastructureConfiguration.terminateInstanceOnFailure false

  # The YAML of get creates it again under another name.
  kiln_ok get-infrastructure-configuration --infrastructure-configuration-arn "$infra" \
    --output yaml
  sed 's/^name: builders$/name: builders-2/' "$OUT" >"$T/infra.yaml"
  kiln_ok create-infrastructure-configuration --cli-input-yaml "$T/infra.yaml"
  assert_eq 2 "$(count_of list-infrastructure-configurations \
    infrastructureConfigurationSummaryList)" "infrastructure configurations"
  # The same request again is the same configuration; other content under its name is refused.
  kiln_ok create-infrastructure-configuration --cli-input-yaml "$T/infra.yaml"
  assert_eq "$infra-2" "$(out_field infrastructureConfigurationArn)" "the same request again"
  assert_refused "another configuration of one name" create-infrastructure-configuration \
    --cli-input-yaml "$T/infra.yaml" --description other
  assert_contains "$ERR" "ResourceAlreadyExistsException"

  cat >"$T/dist.yaml" <<'EOF'
name: to-backup
description: copies to the backup disk
distributions:
  - region: backup
    amiDistributionConfiguration:
      name: 'web-{{ imagebuilder:buildDate }}'
      amiTags:
        team: web
EOF
  kiln_ok create-distribution-configuration --cli-input-yaml "$T/dist.yaml"
  local dist
  dist=$(out_field distributionConfigurationArn)
  assert_eq "$ARN_PREFIX:distribution-configuration/to-backup" "$dist"
  kiln_ok get-distribution-configuration --distribution-configuration-arn "$dist"
  assert_json "$OUT" distributionConfiguration.distributions.0.region backup
  kiln_ok update-distribution-configuration --distribution-configuration-arn "$dist" \
    --distributions '[{"region": "backup"}, {"region": "offsite"}]'
  kiln_ok list-distribution-configurations
  assert_contains "$OUT" "backup,offsite"
  assert_refused "a bad region" update-distribution-configuration \
    --distribution-configuration-arn "$dist" --distributions '[{"region": "Bad Region"}]'

  kiln_ok delete-distribution-configuration --distribution-configuration-arn "$dist"
  assert_json "$OUT" distributionConfigurationArn "$dist"
  assert_refused "a deleted configuration" get-distribution-configuration \
    --distribution-configuration-arn "$dist"
  assert_contains "$ERR" "ResourceNotFoundException"
  kiln_ok delete-infrastructure-configuration --infrastructure-configuration-arn "$infra"
  assert_eq 1 "$(count_of list-infrastructure-configurations \
    infrastructureConfigurationSummaryList)" "infrastructure configurations after delete"
}

test_regions() {
  kiln_ok region list
  assert_not_contains "$OUT" "backup"
  kiln_ok region set backup "$T/backup-store"
  kiln_ok region set offsite "$T/offsite"
  kiln_ok region list
  assert_contains "$OUT" "backup"
  assert_contains "$OUT" "$T/backup-store"
  kiln_ok region list --output json
  assert_json "$OUT" regions.1.name offsite
  assert_json "$OUT" regions.1.store "$T/offsite"
  assert_refused "a bad region name" region set 'No Good' "$T/x"
}

# ---- images ---------------------------------------------------------------------------------

test_images() {
  make_component web-setup 1.0.0 hello
  write_recipe "$T/recipe.yaml" 1.0.0 "$ARN"
  kiln_ok create-image-recipe --cli-input-yaml "$T/recipe.yaml"
  local recipe infra
  recipe=$(out_field imageRecipeArn)
  kiln_ok create-infrastructure-configuration --name builders --instance-profile-name kiln
  infra=$(out_field infrastructureConfigurationArn)

  kiln_ok create-image --no-build --image-recipe-arn "$recipe" \
    --infrastructure-configuration-arn "$infra" \
    --image-tests-configuration imageTestsEnabled=false
  local image
  image=$(out_field imageBuildVersionArn)
  assert_eq "$ARN_PREFIX:image/web-server/1.0.0/1" "$image"

  kiln_ok get-image --image-build-version-arn "$image"
  assert_json "$OUT" image.state.status PENDING
  assert_json "$OUT" image.imageRecipe.arn "$recipe"
  assert_json "$OUT" image.imageTestsConfiguration.imageTestsEnabled false
  kiln_ok get-image --image-build-version-arn "$image" --output table
  assert_contains "$OUT" "state.status"
  kiln_ok get-image --image-build-version-arn "$image" --output yaml
  assert_contains "$OUT" "imageRecipeArn: $recipe"
  assert_contains "$OUT" "infrastructureConfigurationArn: $infra"

  kiln_ok list-images
  assert_contains "$OUT" "web-server"
  kiln_ok create-image --no-build --image-recipe-arn "$recipe" \
    --infrastructure-configuration-arn "$infra"
  assert_eq "$ARN_PREFIX:image/web-server/1.0.0/2" "$(out_field imageBuildVersionArn)"
  assert_eq 2 "$(count_of list-image-build-versions imageSummaryList \
    --image-version-arn "$ARN_PREFIX:image/web-server/1.0.0")" "builds of the image"

  assert_refused "deleting a pending image" delete-image --image-build-version-arn "$image"
  kiln_ok cancel-image-creation --image-build-version-arn "$image"
  assert_json "$OUT" imageBuildVersionArn "$image"
  kiln_ok get-image --image-build-version-arn "$image"
  assert_json "$OUT" image.state.status CANCELLED
  assert_refused "cancelling a cancelled image" cancel-image-creation \
    --image-build-version-arn "$image"
  kiln_ok delete-image --image-build-version-arn "$image"
  assert_refused "a deleted image" get-image --image-build-version-arn "$image"

  assert_refused "an unknown recipe" create-image --no-build \
    --image-recipe-arn "$ARN_PREFIX:image-recipe/nothing/1.0.0" \
    --infrastructure-configuration-arn "$infra"
  assert_refused "no infrastructure" create-image --no-build --image-recipe-arn "$recipe"
  assert_eq 1 "$(count_of list-image-build-versions imageSummaryList \
    --image-version-arn "$ARN_PREFIX:image/web-server/1.0.0")" "builds after bad input"
}

run_kiln_test component_builds test_component_builds
run_kiln_test component_yaml_round_trip test_component_yaml_round_trip
run_kiln_test bad_components test_bad_components
run_kiln_test managed_components test_managed_components
run_kiln_test recipes test_recipes
run_kiln_test bad_recipes test_bad_recipes
run_kiln_test configurations test_configurations
run_kiln_test regions test_regions
run_kiln_test images test_images
finish
