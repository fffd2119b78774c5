#!/usr/bin/env bash
# Usage: check_core_layers.sh SOURCE_DIR
# The folders of core/ are layers, each above the ones before it in LAYERS below. A folder may
# include its own headers and the public headers (moe/...) of folders in lower layers: never
# those of a folder in its own or a higher layer (that is how include cycles start), and never
# another folder's private headers (a private header is included by its name, from beside the
# including file).
# Who owns a public header moe/X.hpp: the folder holding X.cpp; else the folder X is named after
# (moe/plot/*.hpp, gguf.hpp, train_*.hpp); else nobody (error.hpp, arch.hpp: shared by all).
set -euo pipefail
core="$1/core"

LAYERS=(
  "util"               # thread pool, atomic files, text files, human units
  "gguf"               # the file format
  "tokenizer model"    # text to tokens; architectures, the model and its summary
  "routing"            # the routing rule (route_layer), the trace, its statistics and data files
  "backend"            # the Backend contract and the CPU backend
  "gl session"         # the GL backend; KV reuse and generation
  "analysis"           # above a session: domains, prompt sets, expert insights, interventions
  "plot train"         # figures and their layout; the trainer and the training job
)

declare -A rank
for i in "${!LAYERS[@]}"; do
  for folder in ${LAYERS[$i]}; do rank[$folder]=$i; done
done
folders=$(find "$core" -mindepth 1 -maxdepth 1 -type d ! -name include -printf '%f\n' | sort)
status=0
for folder in $folders; do
  if [ -z "${rank[$folder]+x}" ]; then
    echo "core/$folder is in no layer: add it to LAYERS in $0"
    status=1
  fi
done

declare -A owner
while read -r source; do
  stem=$(basename "$source" .cpp)
  folder=${source#"$core"/}
  folder=${folder%%/*}
  [ -z "${owner[$stem]+x}" ] && owner[$stem]=$folder
done < <(find "$core" -name '*.cpp' ! -path "$core/include/*" | sort)

owner_of() {  # moe/X.hpp -> folder, or empty
  local header=$1 stem folder
  case "$header" in
    moe/*/*) folder=${header#moe/}; echo "${folder%%/*}"; return ;;
  esac
  stem=$(basename "$header" .hpp)
  if [ -n "${owner[$stem]+x}" ]; then echo "${owner[$stem]}"; return; fi
  for folder in $folders; do
    if [ "$stem" = "$folder" ] || [[ "$stem" == "${folder}_"* ]]; then echo "$folder"; return; fi
  done
}

check_file() {  # FILE FOLDER: the includes of FILE, which belongs to FOLDER
  local file=$1 here=$2 header there
  while read -r header; do
    if [[ "$header" != moe/* ]]; then
      # A private header: beside the file, inside its own folder.
      if [[ "$header" == *../* ]] || [ ! -f "$(dirname "$file")/$header" ]; then
        echo "${file#"$core"/}: \"$header\" is not a header of core/$here (a reach-in?)"
        status=1
      fi
      continue
    fi
    there=$(owner_of "$header")
    [ -z "$there" ] || [ "$there" = "$here" ] && continue
    if [ -z "${rank[$there]+x}" ] || [ "${rank[$there]}" -ge "${rank[$here]}" ]; then
      echo "${file#"$core"/} (core/$here) includes $header (core/$there): not a lower layer"
      status=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
}

for folder in $folders; do
  [ -n "${rank[$folder]+x}" ] || continue
  while read -r file; do
    check_file "$file" "$folder"
  done < <(find "$core/$folder" \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort)
done
# Public headers count for the folder that owns them.
while read -r file; do
  here=$(owner_of "${file#*/include/}")
  [ -n "$here" ] && [ -n "${rank[$here]+x}" ] && check_file "$file" "$here"
done < <(find "$core" -path '*/include/moe/*' -name '*.hpp' | sort)

if [ $status -eq 0 ]; then
  printf -v order ' < %s' "${LAYERS[@]}"
  echo "core layers, lowest first: ${order:3}; no include goes up, sideways or into a private header"
fi
exit $status
