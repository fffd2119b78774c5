#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test through CTest,
# then runs the GGUF parser's mutated-file corpus under AddressSanitizer + UBSan.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_BUILD_DIR:-$root/build}"

"$root/scripts/deps.sh"
"$root/scripts/build.sh"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"

if [ -x "$root/scripts/test_sanitized.sh" ]; then
  "$root/scripts/test_sanitized.sh"
fi
echo "moescope: all tests passed"
