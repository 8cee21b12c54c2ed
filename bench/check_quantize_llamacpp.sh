#!/usr/bin/env bash
# Checks that the GGUF files `lfm quantize` writes load in llama.cpp and give llama.cpp's greedy text
# identical to ours on the same file (CI cannot run llama.cpp; tests/engine/gguf_export_test.cpp
# round-trips through our own loader there).
#
# Usage: bench/check_quantize_llamacpp.sh MODEL_DIR [LLAMA_BIN_DIR] [TYPES...]
#   MODEL_DIR      an LFM2 model directory (e.g. /work/models/lfm2-350m-random, or the tiny test model)
#   LLAMA_BIN_DIR  llama.cpp's build/bin with llama-completion (default /work/llama.cpp/build/bin)
#   TYPES          default: f32 bf16 f16 q8_0 q4_0
# Exit 0 when every type gives identical text; prints one line per type.
set -euo pipefail
dir=${1:?usage: $0 MODEL_DIR [LLAMA_BIN_DIR] [TYPES...]}
bin=${2:-/work/llama.cpp/build/bin}
shift $(( $# >= 2 ? 2 : 1 ))
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(f32 bf16 f16 q8_0 q4_0)
lfm=${LFM:-$(dirname "$0")/../build/lfm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prompt="The capital of France is"
n=24
fail=0
for t in "${types[@]}"; do
  out="$tmp/model-$t.gguf"
  "$lfm" quantize -m "$dir" --type "$t" --out "$out" 2>/dev/null
  ours=$("$lfm" generate -m "$out" -p "$prompt" -n $n --temp 0 --ignore-eos -t 2 2>/dev/null)
  # llama-completion echoes the prompt; --ignore-eos as ours (random models emit EOS at random).
  # llama.cpp prints a token's raw bytes, lfm prints U+FFFD for bytes that are not valid UTF-8 (as HF's
  # decode does): compare after the same replacement.
  theirs=$("$bin/llama-completion" -m "$out" -p "$prompt" -n $n --temp 0 --ignore-eos -no-cnv -t 2 2>/dev/null |
           python3 -c "import sys; sys.stdout.write(sys.stdin.buffer.read().decode('utf-8', 'replace'))")
  theirs=${theirs#"$prompt"}
  if [ "$ours" == "$theirs" ]; then
    echo "$t: identical greedy text ($n tokens)"
  else
    echo "$t: DIFFERENT"; echo "  lfm:       $ours"; echo "  llama.cpp: $theirs"; fail=1
  fi
done
exit $fail
