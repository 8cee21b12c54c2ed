#!/usr/bin/env bash
# bench/get_llama_cpp.sh DIR: gets llama.cpp's source and builds the binaries bench/compare.sh runs
# (llama-bench, llama-quantize, llama-completion, llama-mtmd-cli) in DIR/build/bin, tuned for this
# CPU (GGML_NATIVE=ON). It is a side tool for the comparison, outside the product build: lfm.cpp
# itself never downloads anything.
#
# Source: the llama-cpp-python source distribution on PyPI vendors the full llama.cpp tree in
# vendor/llama.cpp, so the ordinary pip client is enough to get it (no git clone needed):
#   pip download llama-cpp-python --no-deps --no-binary :all:
# Then: LLAMA_CPP_DIR=DIR bash bench/compare.sh
set -euo pipefail
DIR=${1:?usage: bash bench/get_llama_cpp.sh DIR}
PIP=${PIP:-pip}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ ! -f "$DIR/convert_hf_to_gguf.py" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$PIP" download llama-cpp-python --no-deps --no-binary :all: -d "$tmp"
  tar -xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp"
  cp -a "$tmp"/llama_cpp_python-*/vendor/llama.cpp/. "$DIR/"
fi
cmake -S "$DIR" -B "$DIR/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF
cmake --build "$DIR/build" -j"$(nproc)" --target llama-bench llama-quantize llama-completion llama-mtmd-cli
echo "llama.cpp binaries in $DIR/build/bin; its converter needs: pip install torch transformers numpy sentencepiece"
