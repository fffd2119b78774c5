#!/usr/bin/env bash
# The recipe for the bundled model: builds moescope-cli (Release) into build-train/ (or
# $MOESCOPE_TRAIN_BUILD_DIR), copies it to data/train/bin/ so that later rebuilds never touch the
# running binary, and starts `moescope-cli train CONFIG` in the background under nohup.
#
#   scripts/train_model.sh [CONFIG] [--resume | --fresh] [--threads N]
#
# CONFIG defaults to assets/train/default.json (paths in it are relative to the repository root).
# Progress goes to data/train/train.out; the JSONL log, the checkpoint (data/train/checkpoints/
# latest.gguf) and the exported model are where the config's "output" section says. Ctrl-C or
# `kill -INT <pid>` saves a checkpoint and stops; run again with --resume to continue exactly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${MOESCOPE_TRAIN_BUILD_DIR:-$root/build-train}"
config="assets/train/default.json"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  config="$1"
  shift
fi

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then
  generator=(-G Ninja)
fi
cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --target moescope-cli -j "${MOESCOPE_JOBS:-$(nproc)}"

cd "$root"
mkdir -p data/train/bin
cp "$build_dir/bin/moescope-cli" data/train/bin/moescope-cli.new
mv -f data/train/bin/moescope-cli.new data/train/bin/moescope-cli  # a running copy keeps its inode
nohup data/train/bin/moescope-cli train "$config" "$@" >data/train/train.out 2>&1 &
echo "training started (pid $!): progress in data/train/train.out, config $config"
