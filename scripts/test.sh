#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test through CTest (at
# this CPU's kernel level, then forced down to AVX2 and to scalar), then runs the GGUF parser's mutated-file corpus under AddressSanitizer + UBSan.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_BUILD_DIR:-$root/build}"

"$root/scripts/deps.sh"
"$root/scripts/build.sh"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"

# The CPU kernels take the highest SIMD level this CPU runs (moe/cpu_level.hpp). Other machines
# take lower ones: run the suite again with the level forced down to AVX2 and to the scalar code.
for level in avx2 scalar; do
  echo "moescope: the tests again with MOESCOPE_CPU_LEVEL=$level"
  MOESCOPE_CPU_LEVEL=$level ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
done

if [ -x "$root/scripts/test_sanitized.sh" ]; then
  "$root/scripts/test_sanitized.sh"
fi
echo "moescope: all tests passed"
