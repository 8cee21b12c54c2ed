#!/usr/bin/env bash
# The README's main command: installs dependencies, builds lfm (Release), writes a small random-weight
# model with the real LFM2 file layout, and runs the pipeline on it. Pass a model directory to run a
# real model instead:  bash scripts/demo.sh /path/to/LFM2.5-VL-450M
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target lfm
LFM=./build/lfm

MODEL=${1:-}
if [ -z "$MODEL" ]; then
  MODEL=models/tiny-random
  if [ ! -f "$MODEL/model.safetensors" ]; then
    echo "== No model given: writing a tiny RANDOM-weight model to $MODEL"
    $LFM make-test-model --shape tiny --out "$MODEL"
  fi
  cat <<'MSG'
== NOTE: random weights produce meaningless text. The point of this run is the pipeline
   (tokenizer -> decoder -> sampler -> streaming detokenizer) on the real file layout.
   For real output, download a model directory on a machine with internet, e.g.
     huggingface-cli download LiquidAI/LFM2.5-VL-450M --local-dir models/LFM2.5-VL-450M
   and run:  bash scripts/demo.sh models/LFM2.5-VL-450M
MSG
fi

echo "== lfm tokenize"
$LFM tokenize -m "$MODEL" "Hello world, this is a test" --pieces | head -20
echo "== lfm generate (greedy, 32 tokens)"
$LFM generate -m "$MODEL" -p "Hello world, this is a test" -n 32 --temp 0
echo "== lfm generate --json (sampled, seed 7)"
$LFM generate -m "$MODEL" -p "The image shows" -n 16 --temp 0.8 --top-p 0.95 --seed 7 --json
