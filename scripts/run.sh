#!/usr/bin/env bash
# The README's run command: installs dependencies, builds in Release mode, then runs moescope.
# Until the desktop app lands this is a command-line demo: model info and the routing of a
# prompt, on the bundled model if there is one, otherwise on a generated random-weight model.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_BUILD_DIR:-$root/build}"

"$root/scripts/deps.sh"
"$root/scripts/build.sh"

cli="$build_dir/bin/moescope-cli"
model="${1:-}"
if [ -z "$model" ]; then
  model="$(ls "$root"/assets/models/*.gguf 2>/dev/null | head -n 1 || true)"
fi
if [ -z "$model" ]; then
  model="$build_dir/demo-model.gguf"
  echo "moescope: no bundled model yet; generating a random-weight demo model at $model"
  "$cli" make-model "$model" --experts 8 --top-k 2 --layers 4 --seed 7
fi
prompt="${MOESCOPE_PROMPT:-Solve 15 × 8}"
"$cli" info "$model"
echo
"$cli" route "$model" --prompt "$prompt"
