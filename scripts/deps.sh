#!/usr/bin/env bash
# Installs the Debian packages moescope needs to build and test. Idempotent: packages that are
# already installed are skipped, and apt is only called when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev libpcre2-dev nlohmann-json3-dev libcli11-dev
  libopenblas-pthread-dev                         # Eigen's matrix products (EIGEN_USE_BLAS), kernels chosen at run time
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for the GGUF fuzz target
  libimgui-dev libglfw3-dev libgl-dev libpng-dev  # the desktop app (ImGui ships its GLFW/OpenGL3 backends)
  fonts-dejavu-core fonts-wqy-microhei            # its fonts: Latin, Greek, Cyrillic; CJK
  xvfb xauth libgl1-mesa-dri                      # its scripted test: virtual X display, Mesa's llvmpipe
  libcairo2-dev poppler-utils libxml2-dev         # figure export (PNG/SVG/PDF); its tests render PDFs, parse SVG
  libpango1.0-dev                                 # export text: per-character font fallback (CJK labels)
  libcurl4-openssl-dev                            # inference servers (SGLang) as routing sources
  libegl-dev libopengl-dev libegl-mesa0           # GL backend: windowless EGL contexts, glvnd's libOpenGL (GL 4.3 functions)
  qemu-user                                       # test runs_on_older_cpus: the portable build on emulated CPUs without AVX / AVX-512
  dpkg-dev                                        # cpack -G DEB: dpkg-shlibdeps works out the package's Depends
  python3                                         # test corpus_grow: the corpus builder (scripts/corpus)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "moescope: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
