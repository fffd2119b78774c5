#!/usr/bin/env bash
# Usage: check_simd_symbols.sh LEVEL OBJECT... (an argument may be a ;-separated list, as CMake
# passes $<TARGET_OBJECTS:...>)
# The objects of one SIMD level (core/backend/*_simd.cpp built with that level's instructions)
# must define no global or weak symbol outside namespace moe::cpu::detail::LEVEL. Any other one
# (an inline function or template instantiation of a shared header, say) could be picked by the
# linker for the whole program and run instructions a CPU without that level lacks.
set -euo pipefail
level="$1"
shift
IFS=';' read -ra objects <<<"$*"
status=0
for object in "${objects[@]}"; do
  # nm: lower-case types are local; upper-case (and weak V/W/u) ones are visible to the linker.
  symbols=$(nm -C --defined-only "$object")
  stray=$(awk '$2 ~ /^[A-Zuvw]$/' <<<"$symbols" | grep -v " moe::cpu::detail::${level}::" || true)
  if [ -n "$stray" ]; then
    echo "$object defines symbols outside moe::cpu::detail::${level}:"
    echo "$stray"
    status=1
  fi
  if ! grep -q " moe::cpu::detail::${level}::" <<<"$symbols"; then
    echo "$object defines nothing in moe::cpu::detail::${level}: built without MOE_SIMD_NS=${level}?"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "${level}: ${#objects[@]} objects, every visible symbol in moe::cpu::detail::${level}"
exit "$status"
