#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then the installed moescope-cli run from / must find the
# installed assets (P/share/moescope/assets), not the source tree's, and route a prompt with the
# bundled model; moved elsewhere, the install must still work (nothing points back at the build).
# Usage: install_runs_from_another_folder.sh BUILD_DIR [CMAKE]
set -euo pipefail
build_dir=$1
cmake=${2:-cmake}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/moescope-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
work=$(cd "$work" && pwd -P)  # the programs print paths without symlinks
# A prefix two levels down: <exe>/../../assets (the build tree's place) is then $work/assets,
# which does not exist, so only the installed copy can be found.
prefix=$work/moved-from/prefix
mkdir -p "$work/moved-from"

"$cmake" --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "cmake --install $build_dir --prefix $prefix"; }

assets=$prefix/share/moescope/assets
for file in bin/moescope bin/moescope-cli \
  share/moescope/assets/models/moescope-moe-v2.gguf share/moescope/assets/models/MODEL_CARD.md \
  share/moescope/assets/models/v1/moescope-moe-tiny.gguf \
  share/moescope/assets/models/DATA_CARD.md share/moescope/assets/prompts/english.txt \
  share/moescope/assets/train/sample/english/train.txt share/applications/moescope.desktop \
  share/icons/hicolor/scalable/apps/moescope.svg; do
  [ -e "$prefix/$file" ] || fail "$file was not installed"
done
extra_programs=$(ls "$prefix/bin" | grep -v -x -e moescope -e moescope-cli || true)
[ -z "$extra_programs" ] || fail "unexpected programs installed in bin/: $extra_programs"
if find "$prefix" -name 'test_*' | grep -q .; then fail "test files were installed"; fi
grep -q -x "Exec=$prefix/bin/moescope %f" "$prefix/share/applications/moescope.desktop" ||
  fail "the menu entry does not run $prefix/bin/moescope"

# Runs the installed CLI from / with nothing but the install to find assets in.
run_installed() {
  (cd / && env -u MOESCOPE_ASSETS "$1/bin/moescope-cli" "${@:2}")
}
[ ! -e /assets ] || fail "/assets exists, so a run from / could read it instead of the install"

info=$(run_installed "$prefix" info) || fail "installed moescope-cli info failed"
grep -q -x "Assets *$assets" <<<"$info" || fail "info does not name $assets: $info"
grep -q "File *$assets/models/moescope-moe-v2.gguf" <<<"$info" ||
  fail "info did not load the installed model: $info"

route=$(run_installed "$prefix" route --prompt "Hello world") || fail "installed route failed"
grep -q "^Routing: .* MoE layers, 16 experts, top-2" <<<"$route" || fail "no routing header: $route"
grep -q "Expert load (tokens per expert)" <<<"$route" || fail "no expert load: $route"

# The prompt sets come from the install too (domains reads every assets/prompts/<domain>.txt).
domains=$(run_installed "$prefix" domains --json) || fail "installed domains failed"
grep -q "\"$assets/prompts\"" <<<"$domains" || fail "domains did not read $assets/prompts"

# Relocatable: the same tree under another name still finds its own assets.
mv "$work/moved-from" "$work/moved-to"
moved=$work/moved-to/prefix
info=$(run_installed "$moved" info) || fail "moescope-cli info failed after moving the install"
grep -q -x "Assets *$moved/share/moescope/assets" <<<"$info" ||
  fail "after moving, info does not name $moved/share/moescope/assets: $info"

# The desktop app starts (its libraries resolve); --help needs no display.
"$moved/bin/moescope" --help >/dev/null || fail "installed moescope --help failed"
echo "install in $prefix ran from / with its own assets"
