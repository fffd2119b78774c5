#!/usr/bin/env bash
# Builds the training corpus of the bundled moescope model: seven domains (english, code,
# german, french, spanish, russian, maths) of roughly equal size, from freely licensed text
# that Debian ships plus generated maths exercises.
#
#   scripts/corpus/build_corpus.sh                 # install packages, build data/corpus
#   scripts/corpus/build_corpus.sh --target-mb 3   # smaller corpus (train MB per domain)
#   scripts/corpus/build_corpus.sh --domains maths,code --samples 10
#   scripts/corpus/build_corpus.sh --no-install    # use what is installed
#   scripts/corpus/build_corpus.sh --out data/corpus-grown --target-mb 10 --base-mb 5
#                        # the 5 MB corpus grown to 10 MB (v2's stage 4): same val.txt, more
#                        # train.txt
#
# Output: data/corpus/<domain>/{train,val}.txt (documents separated by a line
# "<|endoftext|>", UTF-8 NFC), data/corpus/samples/<domain>.txt (random documents per source,
# for reviewing), data/corpus/stats.json. Other options: see build_corpus.py --help.
# Re-running rebuilds everything from the installed packages; same seed, same corpus.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

install=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    -h|--help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exec python3 "$here/build_corpus.py" --help ;;
    *) args+=("$arg") ;;
  esac
done

packages=(
  # tools
  mandoc diatheke bible-kjv
  # English
  fortunes fortunes-min bible-kjv-text jargon-text display-dhammapada
  debian-handbook debian-reference-en maint-guide debian-faq
  # German
  fortunes-de manpages-de debian-reference-de maint-guide-de debian-faq-de
  developers-reference-de
  # French (w3m is only there to satisfy the www-browser dependency of gimp-help-*; without
  # it apt would pick a much larger browser)
  manpages-fr gimp-help-fr w3m debian-reference-fr maint-guide-fr debian-faq-fr
  developers-reference-fr aptitude-doc-fr
  # Spanish
  fortunes-es manpages-es gimp-help-es sword-text-sparv debian-reference-es maint-guide-es
  aptitude-doc-es
  # Russian
  fortunes-ru manpages-ru maint-guide-ru debian-faq-ru developers-reference-ru aptitude-doc-ru
  # Code
  libpython3.11-stdlib golang-src golang-1.19-src gnulib libc6-dev libstdc++-12-dev
  libeigen3-dev bash-completion node-lodash node-acorn
  # Only for growing a corpus (--base-mb)
  manpages-de-dev manpages-fr-dev manpages-es-dev manpages-ru-dev gimp-help-ru
)

if [ "$install" -eq 1 ]; then
  missing=()
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
      sudo_cmd=(sudo)
    fi
    echo "build_corpus: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

for tool in python3 mandoc diatheke bible dpkg; do
  command -v "$tool" >/dev/null || { echo "build_corpus: $tool not found" >&2; exit 1; }
done

cd "$root"
# Low priority: the build shares the machine with compilers.
exec nice -n 10 python3 "$here/build_corpus.py" --out data/corpus --prompts assets/prompts \
  "${args[@]+"${args[@]}"}"
