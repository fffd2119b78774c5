#!/usr/bin/env bash
# Builds the GGUF reader/writer tests with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (or $BUILD_DIR_ASAN) and runs them: the unit tests and the mutated-file corpus.
# Only the two test targets are built (they link the small moe_gguf library, not the engine).
# Exits non-zero when a test fails or a sanitizer reports anything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR_ASAN:-$root/build-asan}"
jobs="${MOESCOPE_JOBS:-$(nproc)}"
targets=(test_gguf test_gguf_corpus)

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then
  generator=(-G Ninja)
fi
# -O1 keeps the instrumented build and the tests quick; -g gives readable sanitizer reports.
cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DMOESCOPE_SANITIZE=ON >/dev/null
cmake --build "$build_dir" --target "${targets[@]}" -j "$jobs"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
for target in "${targets[@]}"; do
  echo "moescope: running $target under ASan + UBSan"
  "$build_dir/bin/$target" --gtest_brief=1
done
echo "moescope: sanitized GGUF tests passed"
