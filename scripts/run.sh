#!/usr/bin/env bash
# The README's run command: installs dependencies, builds in Release mode, then opens the
# moescope window on the bundled model (assets/models/*.gguf), or on the model given as the
# first argument. Without a bundled model the app generates a random-weight demo model into the
# build folder and says so in its title and status bar.
#
#   scripts/run.sh [MODEL.gguf]          the desktop app
#   scripts/run.sh --cli [MODEL.gguf]    the command-line demo: model info and the routing of a
#                                        prompt (MOESCOPE_PROMPT, default "Solve 15 × 8")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_BUILD_DIR:-$root/build}"

cli_demo=0
if [ "${1:-}" = "--cli" ]; then
  cli_demo=1
  shift
fi

"$root/scripts/deps.sh"
"$root/scripts/build.sh"

model="${1:-}"
if [ -z "$model" ]; then
  model="$(ls "$root"/assets/models/*.gguf 2>/dev/null | head -n 1 || true)"
fi

if [ "$cli_demo" -eq 0 ]; then
  if [ -n "$model" ]; then
    exec "$build_dir/bin/moescope" "$model"
  fi
  echo "moescope: no bundled model yet; the app generates a random-weight demo model at $build_dir/demo-model.gguf"
  exec "$build_dir/bin/moescope" --demo-model "$build_dir/demo-model.gguf"
fi

cli="$build_dir/bin/moescope-cli"
if [ -z "$model" ]; then
  model="$build_dir/demo-model.gguf"
  echo "moescope: no bundled model yet; generating a random-weight demo model at $model"
  "$cli" make-model "$model" --experts 8 --top-k 2 --layers 4 --seed 7 --ctx 4096
fi
prompt="${MOESCOPE_PROMPT:-Solve 15 × 8}"
"$cli" info "$model"
echo
"$cli" route "$model" --prompt "$prompt"
