#!/usr/bin/env bash
# lfm.cpp, llguidance and XGrammar side by side on JSONSchemaBench with the real LFM2.5 tokenizer, one table.
#   bash bench/grammar_compare.sh [--stride N]     (default 20: 499 records; --stride 1: all 9,962, hours)
# Builds grammar_bench (build/), makes the reference venv (scripts/refs.sh --venv-only), runs ours first,
# then the two references on the same records and token ids (bench/grammar_compare.py explains the method).
set -euo pipefail
cd "$(dirname "$0")/.."
STRIDE=20
if [ "${1:-}" = "--stride" ]; then STRIDE=$2; fi
TESTDATA=${LFM_TESTDATA_DIR:-$(cd .. && pwd)/shared/testdata}
TOKENIZER=tests/text/data/lfm2.5-vl-450m/tokenizer.json
OUT=build/grammar-compare
VENV=${LFM_REFS_VENV:-build-refs/venv}

[ -f build/build.ninja ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLFM_TESTDATA_DIR="$TESTDATA" >/dev/null
cmake --build build --target grammar_bench >/dev/null
bash scripts/refs.sh --venv-only
mkdir -p "$OUT"
LFM_TESTDATA_DIR="$TESTDATA" build/grammar_bench --tokenizer "$TOKENIZER" --stride "$STRIDE" --coverage \
  --json "$OUT/ours.json" --dump-tokens "$OUT/tokens.jsonl" > "$OUT/ours.txt"
"$VENV/bin/python" bench/grammar_compare.py --tokenizer "$TOKENIZER" --tokens "$OUT/tokens.jsonl" \
  --ours "$OUT/ours.json" --testdata "$TESTDATA" --out "$OUT/results.json" 2> "$OUT/references.log"
