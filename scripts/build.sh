#!/usr/bin/env bash
# Configures and builds moescope in Release mode into build/ (or $MOESCOPE_BUILD_DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_BUILD_DIR:-$root/build}"
jobs="${MOESCOPE_JOBS:-$(nproc)}"

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then
  generator=(-G Ninja)
fi
cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
