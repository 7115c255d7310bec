#!/usr/bin/env bash
# Installs what seedchip needs on Debian 12 (idempotent: installs only what is
# missing). `scripts/setup.sh` installs the build dependencies;
# `scripts/setup.sh --test` adds what the test suite needs (Debian's python3
# with numpy and torch to generate reference data); `scripts/setup.sh --fuzz`
# adds clang 14 and libFuzzer for the fuzz preset; `scripts/setup.sh --bench`
# adds Node.js and installs ONNX Runtime (onnxruntime-node, from npm) into
# build/ort for `seedchip bench sim --model` to compare against.
set -euo pipefail

pkgs=(g++ cmake ninja-build pkg-config zlib1g-dev libyaml-cpp-dev libcli11-dev libfmt-dev
      nlohmann-json3-dev libgtest-dev libbenchmark-dev
      libonnx-dev libprotobuf-dev protobuf-compiler libsqlite3-dev coinor-libcbc-dev
      libopenmpi-dev openmpi-bin pybind11-dev python3-dev)
if [[ "${1:-}" == "--fuzz" ]]; then  # the fuzz preset: clang 14 with libFuzzer (scripts/fuzz.sh)
  pkgs+=(clang-14 libclang-rt-14-dev)
fi
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(nodejs)
  # Debian packages npm apart; a Node.js from elsewhere brings its own (and conflicts with Debian's)
  command -v npm > /dev/null || pkgs+=(npm)
fi
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(python3 python3-numpy python3-torch python3-torchvision python3-onnx python3-pytest python3-matplotlib chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#pkgs[@]} packages present"
fi

if [[ "${1:-}" == "--bench" ]]; then
  cd "$(dirname "$0")/.."
  ort=1.31.1
  if [[ -f build/ort/node_modules/onnxruntime-node/package.json ]] &&
     grep -q "\"version\": \"$ort\"" build/ort/node_modules/onnxruntime-node/package.json; then
    echo "setup: onnxruntime-node $ort present in build/ort"
  else
    echo "setup: installing onnxruntime-node $ort into build/ort"
    mkdir -p build/ort
    # the skip flag avoids a GPU binary download that would fail offline
    ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix build/ort --no-audit --no-fund --silent "onnxruntime-node@$ort"
  fi
fi
