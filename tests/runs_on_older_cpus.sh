#!/usr/bin/env bash
# Usage: runs_on_older_cpus.sh MOESCOPE_CLI
# The build is for the x86-64 baseline: on an emulated CPU without AVX (qemu-x86_64 -cpu
# Westmere) moescope-cli must run, say it uses the scalar kernels, and route a prompt to the same
# experts as on this machine (gate weights and the per-layer aux loss and entropy, which come
# from the router's probabilities, left out: the levels round differently in the last bits, and
# one layer's aux loss prints as 1.576 on one level and 1.577 on another); on an emulated Haswell
# it must take the avx2 level. QEMU stops a program with SIGILL at any instruction the emulated
# CPU lacks, so an AVX instruction left in the baseline code (or a level chosen wrongly) fails
# here. Skipped (77) without qemu-user.
set -euo pipefail
cli="$1"
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
  echo "SKIP: qemu-x86_64 not installed (Debian package qemu-user)"
  exit 77
fi
prompt="Solve 15 x 8, then translate: Guten Morgen"
unset MOESCOPE_CPU_LEVEL
experts_only() { sed -E 's/:[0-9.]+//g; s/aux [0-9.]+//; s/entropy [0-9.]+ nats//'; }
expected=$("$cli" route --prompt "$prompt" | experts_only)
status=0
# OpenBLAS (Eigen's BLAS) picks its own kernels from CPUID; under qemu-user it sees a Westmere as
# a Haswell and runs AVX code, which a real Westmere would not: name the core it would choose.
for case in "Westmere scalar Nehalem" "Haswell avx2 Haswell"; do
  read -r model level blas_core <<<"$case"
  export OPENBLAS_CORETYPE=$blas_core
  info=$(qemu-x86_64 -cpu "$model" "$cli" info 2>/dev/null) || {
    echo "FAIL: moescope-cli info stopped on an emulated $model (exit $?)"
    status=1
    continue
  }
  if ! grep -q "^CPU kernels   $level\$" <<<"$info"; then
    echo "FAIL: on an emulated $model expected 'CPU kernels   $level', got:"
    grep "CPU kernels" <<<"$info" || echo "(no CPU kernels line)"
    status=1
  fi
  routed=$(qemu-x86_64 -cpu "$model" "$cli" route --prompt "$prompt" 2>/dev/null | experts_only) || {
    echo "FAIL: moescope-cli route stopped on an emulated $model"
    status=1
    continue
  }
  if [ "$routed" != "$expected" ]; then
    echo "FAIL: routing on an emulated $model ($level kernels) differs from this machine's:"
    diff <(echo "$expected") <(echo "$routed") | head -20
    status=1
  else
    echo "ok: emulated $model runs the $level kernels and routes as this machine does"
  fi
done
exit "$status"
