#!/usr/bin/env bash
# Greedy parity with llama.cpp on GGUF files of every tensor type we read (issue 12, Deliver 4).
# For each file lfm2-350m-<type>.gguf in $G (made from the f32 GGUF of the random LFM2-350M by
# llama.cpp's own quantizer: `llama-quantize lfm2-350m-f32.gguf lfm2-350m-<type>.gguf <TYPE>`, e.g.
# Q4_K_M, Q5_K_M, Q6_K, Q4_1, Q5_0, Q5_1), runs llama-completion and `lfm generate` greedily on the same
# prompt and prints whether the texts agree, and from which character they differ if not.
# Nothing here is part of the build; llama.cpp is only run, never linked or copied.
# Usage: bench/compare_gguf_types.sh [types...]   (env: LLAMA_BIN, LFM, G, THREADS, N)
set -euo pipefail
LLAMA_BIN=${LLAMA_BIN:-/work/llama.cpp/build/bin}
LFM=${LFM:-build/lfm}
G=${G:-/work/models/gguf}
THREADS=${THREADS:-2}
N=${N:-24}
PROMPT=${PROMPT:-"The capital of France is"}
TYPES=${*:-q4_k_m q5_k_m q6_k q4_1 q5_0 q5_1}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for t in $TYPES; do
  gguf=$G/lfm2-350m-$t.gguf
  [ -f "$gguf" ] || { echo "- $t: $gguf missing (make it with llama-quantize)"; continue; }
  "$LLAMA_BIN/llama-completion" -m "$gguf" -p "$PROMPT" -n "$N" --temp 0 --ignore-eos -no-cnv --no-display-prompt \
    -t "$THREADS" --seed 1 >"$WORK/llama.txt" 2>"$WORK/llama.err" </dev/null || { tail -5 "$WORK/llama.err"; exit 1; }
  "$LFM" generate -m "$gguf" -p "$PROMPT" -n "$N" --temp 0 --ignore-eos -t "$THREADS" --json >"$WORK/lfm.json" \
    2>"$WORK/lfm.err" || { tail -5 "$WORK/lfm.err"; exit 1; }
  python3 - "$t" "$WORK/llama.txt" "$WORK/lfm.json" <<'PY'
import json, sys
t, llama, ours = sys.argv[1], open(sys.argv[2], 'rb').read().decode('utf-8', 'replace'), json.load(open(sys.argv[3]))['text']
llama = llama.rstrip('\n')
if llama == ours:
    print(f"- {t}: identical ({len(ours)} chars)")
else:
    i = next((k for k in range(min(len(llama), len(ours))) if llama[k] != ours[k]), min(len(llama), len(ours)))
    print(f"- {t}: DIFFER from char {i} of {len(ours)}: llama.cpp {llama[i:i+40]!r} vs lfm.cpp {ours[i:i+40]!r}")
PY
done
