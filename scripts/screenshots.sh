#!/usr/bin/env bash
# The classroom screenshots of docs/screenshots/classroom: the real app on the bundled model at
# a projector's 1280x720 with 28 px text, in both themes, of every view (as the view registry
# lists them: moescope --list-views), of presenter mode, of each step of "Inside the MoE
# layer" when the app has that view, of prompt B beside the prompt (A | B) and of the word view. Runs under Xvfb (Mesa's software OpenGL) when there is no
# display. Needs a build (scripts/build.sh).
#
#   scripts/screenshots.sh [OUTPUT_FOLDER]     default: docs/screenshots/classroom
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_BUILD_DIR:-$root/build}"
app="$build_dir/bin/moescope"
out="$(realpath -m "${1:-$root/docs/screenshots/classroom}")"
prompt="${MOESCOPE_PROMPT:-Solve 15 × 8}"

if [ ! -x "$app" ]; then
  echo "screenshots.sh: $app is missing: run scripts/build.sh first" >&2
  exit 1
fi
model="$(ls "$root"/assets/models/*.gguf 2>/dev/null | head -n 1 || true)"
if [ -z "$model" ]; then
  echo "screenshots.sh: no bundled model in assets/models" >&2
  exit 1
fi
mkdir -p "$out"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

mapfile -t views < <("$app" --list-views | cut -f1)
{
  echo "model $model"
  echo "font-size 28"
  echo "prompt $prompt"
  echo "wait"
  echo "select-token 3"
  for theme in dark light; do
    echo "theme $theme"
    for view in "${views[@]}"; do
      echo "panel $view"
      echo "wait"  # a view's own work (the domain profile) finishes before its picture
      echo "screenshot $out/$view-$theme.png"
    done
    echo "panel router"
    echo "presenter 1"
    echo "screenshot $out/presenter-router-$theme.png"
    echo "panel load"
    echo "screenshot $out/presenter-load-$theme.png"
    echo "presenter 0"
  done
  # Two prompts side by side, and the word view, in presenter mode (the classroom's way; in the
  # normal window at this text size each view has a few lines).
  echo "theme dark"
  echo "prompt Guten Morgen, wie geht es dir heute?"
  echo "wait"
  echo "compare-prompt def fibonacci(n): return n"
  echo "presenter 1"
  for view in router load domains; do
    echo "panel $view"
    echo "wait"
    echo "screenshot $out/ab-$view.png"
  done
  echo "press A | B"
  echo "press Words"
  echo "panel router"
  echo "press All tokens"
  echo "screenshot $out/presenter-words-router.png"
  echo "press Words"
  echo "press This token"
  echo "presenter 0"
  echo "prompt $prompt"
  echo "wait"
  echo "select-token 3"
  if printf '%s\n' "${views[@]}" | grep -qx inside; then
    echo "theme dark"
    echo "panel inside"
    echo "screenshot $out/inside-step1.png"
    for step in 2 3 4 5 6 7; do
      echo "press Next"
      echo "screenshot $out/inside-step$step.png"
    done
  fi
  echo "exit"
} > "$scratch/script.txt"

run=("$app" --script "$scratch/script.txt" --width 1280 --height 720 --config-dir "$scratch/config")
if [ -z "${DISPLAY:-}" ]; then
  run=(xvfb-run -a -s "-screen 0 1280x720x24" "${run[@]}")
fi
"${run[@]}"
echo "screenshots.sh: $(ls "$out"/*.png | wc -l) screenshots in $out"
