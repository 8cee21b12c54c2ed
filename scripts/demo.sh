#!/usr/bin/env bash
# The README's main command: installs dependencies, builds lfm (Release), and runs the pipeline.
# With no argument it writes small random-weight models (text and vision-language) in the real LFM2
# file layout and runs on them. Pass a model directory to run a real model instead:
#   bash scripts/demo.sh /path/to/LFM2.5-VL-450M [image.jpg]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target lfm
LFM=./build/lfm
IMAGE=${2:-../shared/testdata/images/chelsea.png}

MODEL=${1:-}
if [ -z "$MODEL" ]; then
  MODEL=models/tiny-vl-random
  if [ ! -f "$MODEL/model.safetensors" ]; then
    echo "== No model given: writing a tiny RANDOM-weight LFM2-VL model to $MODEL"
    $LFM make-test-model --shape tiny-vl --out "$MODEL" -q
  fi
  cat <<'MSG'
== NOTE: random weights produce meaningless text. This run shows the pipeline working end to end
   (chat template -> image decode + LFM2-VL tiling -> SigLIP2 + projector -> tokenizer ->
   hybrid conv/attention decoder -> sampler -> streaming detokenizer; grammar-constrained JSON).
   For real output, download a model directory on a machine with internet, e.g.
     huggingface-cli download LiquidAI/LFM2.5-VL-450M --local-dir models/LFM2.5-VL-450M
   and run:  bash scripts/demo.sh models/LFM2.5-VL-450M path/to/photo.jpg
MSG
fi

echo; echo "== lfm run: one chat turn (greedy, 24 tokens)"
$LFM run -m "$MODEL" -p "Write one sentence about CPUs." -n 24 --temp 0

if [ -f "$IMAGE" ] && grep -q vision_config "$MODEL/config.json"; then
  echo; echo "== lfm preprocess: how $IMAGE is tiled"
  $LFM preprocess -m "$MODEL" --image "$IMAGE"
  echo; echo "== lfm run --image: describe the image (sampled, seed 7)"
  $LFM run -m "$MODEL" --image "$IMAGE" -p "Describe this image." -n 24 --temp 0.1 --min-p 0.15 \
    --repeat-penalty 1.05 --seed 7
fi

echo; echo "== lfm run --json-schema: output guaranteed to match a JSON Schema"
SCHEMA=$(mktemp --suffix=.json)
cat > "$SCHEMA" <<'JSON'
{"type": "object",
 "properties": {"caption": {"type": "string", "maxLength": 40},
                "objects": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
                "confidence_percent": {"type": "integer", "minimum": 0, "maximum": 100}},
 "required": ["caption", "objects", "confidence_percent"], "additionalProperties": false}
JSON
$LFM run -m "$MODEL" -p "Describe a photo as JSON." -n 200 --temp 0.8 --seed 1 --json-schema "$SCHEMA" --json |
  python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["text"]); print("schema_validation:", j.get("schema_validation"))'
rm -f "$SCHEMA"

echo; echo "== lfm generate: raw completion with timings"
$LFM generate -m "$MODEL" -p "Hello world, this is a test" -n 32 --temp 0
