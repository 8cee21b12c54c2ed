#!/usr/bin/env bash
# Regenerates the golden files that tests compare against, from independent reference implementations
# installed into a Python venv outside the product build (build-refs/venv, git-ignored). The C++ build
# and CI never need it: they read the committed goldens.
#
#   bash scripts/refs.sh              # create/update the venv, regenerate every golden below
#   bash scripts/refs.sh --venv-only  # only create/update the venv (bench/grammar_compare.sh uses it)
#   LFM_REFS_VENV=DIR bash scripts/refs.sh
#
# Versions are pinned here; build-refs/PROVENANCE.txt records what was actually installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${LFM_REFS_VENV:-build-refs/venv}
# tokenizers 0.22.2 and 0.23.3 give byte-identical tokenizer goldens; 0.23.3 is what transformers 5.x needs.
PINS=(
  "tokenizers==0.23.3"
  "llguidance==1.9.1"
  "xgrammar==0.2.9"
  "gguf==0.19.0"
  "numpy==2.4.6"
)
# transformers' model classes give the published checkpoints' tensor lists; torch is large (GBs with
# its CUDA wheels), so it is installed only with LFM_REFS_TORCH=1.
# The transformers-written checkpoints, their logits and the LFM2-VL processor goldens need it too.
TORCH_PINS=(
  "torch==2.15.0"
  "transformers==5.25.0"
  "torchvision==0.29.2"
  "pillow==13.0.0"
  "safetensors==0.8.0"
)

if [ ! -x "$VENV/bin/python" ]; then
  echo "refs: creating $VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
if [ "${LFM_REFS_TORCH:-0}" = 1 ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check "${TORCH_PINS[@]}"
fi
mkdir -p build-refs
"$VENV/bin/pip" freeze --disable-pip-version-check > build-refs/PROVENANCE.txt
echo "refs: venv ready ($VENV)"
[ "${1:-}" = "--venv-only" ] && exit 0

# The real LFM2.5-VL tokenizer against HF tokenizers (tests/text/tokenizer_real_lfm2_test.cpp).
# The corpus itself is committed; make_lfm2_tokenizer_corpus.py documents how it was made.
"$VENV/bin/python" tools/refs/make_lfm2_tokenizer_goldens.py

# Q8_0 / Q4_0 GGUFs quantized by the gguf package, and its dequantization hashes
# (tests/model/lfm2_quantized_test.cpp; tests/model/data/gguf_quant/PROVENANCE.md).
TESTDATA=${LFM_TESTDATA_DIR:-$(cd .. && pwd)/shared/testdata}
"$VENV/bin/python" tools/refs/make_gguf_quant_refs.py "$TESTDATA/lfm2-synthetic/tiny-lfm2/model-f32.gguf" \
  tests/model/data/gguf_quant

# Tensor names and shapes of the published checkpoints (tests/engine/random_model_test.cpp).
if [ "${LFM_REFS_TORCH:-0}" = 1 ]; then
  "$VENV/bin/python" tools/refs/make_checkpoint_tensor_lists.py "$TESTDATA/lfm2" tests/engine/data/checkpoint_tensors

  # Random LFM2 checkpoints written by transformers (save_pretrained) and Lfm2ForCausalLM's f32 logits
  # on them: the tiny one is committed (tests/model/data/lfm2-tiny-hf; tests/model/lfm2_transformers_test.cpp,
  # tests/e2e/cli_transformers_test.cpp); the LFM2-350M-shape one (710 MB) goes to build-refs/lfm2-350m-hf
  # for the DISABLED_ full-size test (see the header of tests/model/lfm2_transformers_test.cpp).
  "$VENV/bin/python" tools/refs/make_lfm2_transformers_refs.py tiny
  "$VENV/bin/python" tools/refs/make_lfm2_transformers_refs.py full

  # transformers' Lfm2VlProcessor on the shared images (tests/image/lfm2vl_transformers_test.cpp,
  # tests/e2e/lfm2vl_ids_transformers_test.cpp).
  "$VENV/bin/python" tools/refs/make_lfm2vl_processor_refs.py

  # A tiny LFM2-VL checkpoint written by transformers and generate()'s greedy ids on image prompts
  # (tests/model/data/lfm2-vl-tiny-hf; tests/e2e/cli_transformers_test.cpp).
  "$VENV/bin/python" tools/refs/make_lfm2vl_transformers_refs.py
fi

echo "refs: done; review with git diff --stat"
