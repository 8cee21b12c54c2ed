#!/usr/bin/env bash
# bench/compare.sh: lfm.cpp side by side with llama.cpp on the same machine, in the same run.
#
# Every speed claim of lfm.cpp is a ratio against llama.cpp measured by this script:
#   1. makes (once, cached in $LFM_BENCH_MODELS) full-size random LFM2-350M and LFM2.5-VL-450M models
#      with `lfm make-test-model`, and converts them to GGUF with llama.cpp's own convert_hf_to_gguf.py
#      (f32, bf16; q8_0 and q4_0 with llama-quantize; the VL model as text GGUF + --mmproj GGUF);
#   2. checks that both engines produce the same greedy text from the same GGUF file and prompt
#      (or prints where they first differ);
#   3. runs interleaved A/B repetitions (llama.cpp, then lfm.cpp, REPS times): prefill pp512 and
#      decode tg128 for each dtype (llama-bench vs `lfm bench`, same GGUF file, same threads), one
#      512x512 tile through the vision tower and an end-to-end image analysis of a 1024x768 photo
#      (llama-mtmd-cli's per-crop encoding lines and its wall time after loading vs `lfm bench --image`);
#   4. prints one markdown table: stage | llama.cpp | lfm.cpp | ratio (medians; ratio > 1 means
#      lfm.cpp is faster), plus the machine's read bandwidth measured in the same run.
#
# Usage: bash bench/compare.sh            (from the repository root, after building ./build/lfm)
# Environment (defaults in brackets):
#   LLAMA_CPP_DIR     llama.cpp source tree with binaries in build/bin   [/work/llama.cpp]
#                     (bash bench/get_llama_cpp.sh DIR gets and builds one on a fresh machine)
#   LFM               the lfm binary                                     [./build/lfm]
#   LFM_BENCH_MODELS  cache of random models and GGUF files              [/work/models]
#   LFM_BENCH_PYTHON  Python with torch, transformers, numpy (for the converter) [/work/venv-refs/bin/python]
#   REPS [5]  THREADS [all cores]  DTYPES ["f32 bf16 q8_0 q4_0"]  PP [512]  TG [128]
#   VISION_DTYPE [f32]  (llama.cpp's mmproj GGUF: its vision tower weights)   SKIP_VISION=1 skips the VL part
#   LFM_VISION_DTYPE [auto]  (lfm.cpp's weights for the VL runs: auto = as stored, bf16 for these models, which
#                     is lfm.cpp's default and what the issue's target compares with llama.cpp's f32 mmproj)
# Nothing here is part of the product build; the product itself never downloads anything.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLAMA_CPP_DIR=${LLAMA_CPP_DIR:-/work/llama.cpp}
LLAMA_BIN=${LLAMA_BIN:-$LLAMA_CPP_DIR/build/bin}
LFM=${LFM:-$ROOT/build/lfm}
MODELS=${LFM_BENCH_MODELS:-/work/models}
PY=${LFM_BENCH_PYTHON:-/work/venv-refs/bin/python}
REPS=${REPS:-5}
THREADS=${THREADS:-$(nproc)}
DTYPES=${DTYPES:-"f32 bf16 q8_0 q4_0"}
PP=${PP:-512}
TG=${TG:-128}
VISION_DTYPE=${VISION_DTYPE:-f32}
LFM_VISION_DTYPE=${LFM_VISION_DTYPE:-auto}
IMAGES=${IMAGES:-$ROOT/../shared/testdata/images}
PROMPT="The history of the city begins with a small harbour where fishermen"

die() { echo "compare.sh: $*" >&2; exit 1; }
for b in llama-bench llama-quantize llama-completion llama-mtmd-cli; do
  [ -x "$LLAMA_BIN/$b" ] || die "$LLAMA_BIN/$b not found: build llama.cpp (bash bench/get_llama_cpp.sh) or set LLAMA_CPP_DIR"
done
[ -x "$LFM" ] || die "$LFM not found: build lfm first (cmake --build build --target lfm)"
[ -x "$PY" ] || die "$PY not found: set LFM_BENCH_PYTHON to a Python with torch, transformers and numpy"
mkdir -p "$MODELS/gguf"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# --- 1. models (each written to a temporary name, then renamed: safe with other users of the cache)
make_model() {  # shape dir
  [ -f "$MODELS/$2/config.json" ] && return
  echo "compare.sh: writing random $1 model to $MODELS/$2" >&2
  "$LFM" make-test-model --shape "$1" --out "$MODELS/$2.tmp.$$" -q
  mv "$MODELS/$2.tmp.$$" "$MODELS/$2"
}
convert() {  # out.gguf src-dir converter-args...
  local out=$1 src=$2; shift 2
  [ -f "$out" ] && return
  echo "compare.sh: converting $src -> $out" >&2
  "$PY" "$ROOT/bench/convert_to_gguf.py" "$LLAMA_CPP_DIR" "$src" --outfile "$out.tmp.$$" "$@" >"$WORK/convert.log" 2>&1 ||
    { tail -20 "$WORK/convert.log" >&2; die "conversion of $src failed"; }
  mv "$out.tmp.$$" "$out"
}
quantize() {  # out.gguf in.gguf type [llama-quantize options...]
  local out=$1 in=$2 type=$3; shift 3
  [ -f "$out" ] && return
  echo "compare.sh: quantizing $in -> $out" >&2
  "$LLAMA_BIN/llama-quantize" "$@" "$in" "$out.tmp.$$" "$type" >"$WORK/quantize.log" 2>&1 ||
    { tail -20 "$WORK/quantize.log" >&2; die "llama-quantize $type failed"; }
  mv "$out.tmp.$$" "$out"
}
make_model lfm2-350m lfm2-350m-random
G=$MODELS/gguf
convert "$G/lfm2-350m-f32.gguf" "$MODELS/lfm2-350m-random" --outtype f32
for dt in $DTYPES; do
  case $dt in
    f32) ;;
    bf16) convert "$G/lfm2-350m-bf16.gguf" "$MODELS/lfm2-350m-random" --outtype bf16 ;;
    q8_0) quantize "$G/lfm2-350m-q8_0.gguf" "$G/lfm2-350m-f32.gguf" Q8_0 ;;
    # llama-quantize's Q4_0 recipe stores the (tied) embedding as q6_K, a type lfm.cpp does not
    # read: it is kept at q8_0 instead, the same file for both engines.
    q4_0) quantize "$G/lfm2-350m-q4_0.gguf" "$G/lfm2-350m-f32.gguf" Q4_0 \
            --token-embedding-type q8_0 --output-tensor-type q8_0 ;;
    *) die "unknown dtype '$dt' in DTYPES (f32 bf16 q8_0 q4_0)" ;;
  esac
done
if [ "${SKIP_VISION:-0}" != 1 ]; then
  make_model lfm2.5-vl-450m lfm2.5-vl-450m-random
  VL=$MODELS/lfm2.5-vl-450m-random
  convert "$G/lfm2.5-vl-450m-f32.gguf" "$VL" --outtype f32
  convert "$G/lfm2.5-vl-450m-mmproj-$VISION_DTYPE.gguf" "$VL" --outtype "$VISION_DTYPE" --mmproj
  TILE=$IMAGES/camera.png  # 512x512: exactly one tile
  PHOTO=$MODELS/bench-photo-1024x768.jpg
  if [ ! -f "$PHOTO" ]; then
    "$PY" -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').resize((1024, 768)).save(sys.argv[2], quality=92)" \
      "$IMAGES/retina.jpg" "$PHOTO.tmp.$$.jpg" && mv "$PHOTO.tmp.$$.jpg" "$PHOTO"
  fi
fi

# --- 2. same greedy text from the same GGUF file
echo "## Greedy parity (same GGUF, prompt \"$PROMPT\", 24 tokens)"
for dt in $DTYPES; do
  gguf=$G/lfm2-350m-$dt.gguf
  "$LLAMA_BIN/llama-completion" -m "$gguf" -p "$PROMPT" -n 24 --temp 0 --ignore-eos -no-cnv --no-display-prompt \
    -t "$THREADS" --seed 1 >"$WORK/llama.txt" 2>"$WORK/llama.err" </dev/null || { tail -5 "$WORK/llama.err"; die "llama-completion failed"; }
  "$LFM" generate -m "$gguf" -p "$PROMPT" -n 24 --temp 0 --ignore-eos -t "$THREADS" --json >"$WORK/lfm.json" 2>"$WORK/lfm.err" ||
    { tail -5 "$WORK/lfm.err"; die "lfm generate failed on $gguf"; }
  "$PY" - "$dt" "$WORK/llama.txt" "$WORK/lfm.json" <<'EOF'
import json, sys
dt, llama, ours = sys.argv[1], open(sys.argv[2], 'rb').read().decode('utf-8', 'replace'), json.load(open(sys.argv[3]))['text']
llama = llama.rstrip('\n')
if llama == ours:
    print(f"- {dt}: identical ({len(ours)} chars)")
else:
    i = next((k for k in range(min(len(llama), len(ours))) if llama[k] != ours[k]), min(len(llama), len(ours)))
    print(f"- {dt}: DIFFER from char {i}: llama.cpp {llama[i:i+40]!r} vs lfm.cpp {ours[i:i+40]!r}")
EOF
done
echo

# --- 3. interleaved A/B repetitions
: >"$WORK/results.jsonl"
record() { echo "$1" >>"$WORK/results.jsonl"; }
for rep in $(seq 1 "$REPS"); do
  echo "compare.sh: repetition $rep of $REPS" >&2
  for dt in $DTYPES; do
    gguf=$G/lfm2-350m-$dt.gguf
    "$LLAMA_BIN/llama-bench" -m "$gguf" -p "$PP" -n "$TG" -r 1 -t "$THREADS" -o json >"$WORK/lb.json" 2>/dev/null ||
      die "llama-bench failed on $gguf"
    record "{\"engine\":\"llama.cpp\",\"dtype\":\"$dt\",\"llama_bench\":$(tr -d '\n' <"$WORK/lb.json")}"
    # The bandwidth probe runs once per repetition, next to the decode runs it is compared with.
    probe=--no-bandwidth-probe
    [ "$dt" = "$(echo $DTYPES | cut -d' ' -f1)" ] && probe=
    "$LFM" bench -m "$gguf" -p "$PP" -n "$TG" -r 1 -t "$THREADS" -o json $probe >"$WORK/lf.json" 2>"$WORK/lf.err" ||
      { tail -5 "$WORK/lf.err"; die "lfm bench failed on $gguf"; }
    record "{\"engine\":\"lfm.cpp\",\"dtype\":\"$dt\",\"lfm_bench\":$(cat "$WORK/lf.json")}"
  done
  if [ "${SKIP_VISION:-0}" != 1 ]; then
    for img in "$TILE" "$PHOTO"; do
      t0=$(date +%s%N)
      "$LLAMA_BIN/llama-mtmd-cli" -m "$G/lfm2.5-vl-450m-f32.gguf" --mmproj "$G/lfm2.5-vl-450m-mmproj-$VISION_DTYPE.gguf" \
        --image "$img" -p "Describe this image in detail." -n 16 --temp 0 --ignore-eos -t "$THREADS" -lv 3 \
        >"$WORK/mtmd.out" 2>"$WORK/mtmd.err" </dev/null || { tail -5 "$WORK/mtmd.err"; die "llama-mtmd-cli failed"; }
      wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
      # llama-mtmd-cli logs "mtmd batch encoding done in N ms" per crop (older builds: "image slice
      # encoded in N ms"), each log line stamped M.SS.mmm.uuu from its start, and prints no
      # end-to-end time: image analysis = wall time from its first encoding line to its exit.
      "$PY" - "$img" "$WORK/mtmd.err" "$wall_ms" >>"$WORK/results.jsonl" <<'EOF'
import json, re, sys
text = open(sys.argv[2], errors='replace').read()
slices = [float(x) for x in re.findall(r'(?:mtmd batch encoding done|image slice encoded) in (\d+) ms', text)]
first = re.search(r'^(\d+)\.(\d+)\.(\d+)\.(\d+) I encoding', text, re.M)
start_ms = (int(first.group(1)) * 60e3 + int(first.group(2)) * 1e3 + int(first.group(3)) + int(first.group(4)) / 1e3) if first else None
e2e = float(sys.argv[3]) - start_ms if start_ms is not None else None
print(json.dumps({"engine": "llama.cpp", "image": sys.argv[1], "slices": slices, "e2e_ms": e2e}))
EOF
    done
    "$LFM" bench -m "$VL" --dtype "$LFM_VISION_DTYPE" -p 1 -n 1 -r 1 -t "$THREADS" --image "$TILE" --image "$PHOTO" \
      --image-tokens 16 -o json --no-bandwidth-probe >"$WORK/lv.json" 2>"$WORK/lv.err" ||
      { tail -5 "$WORK/lv.err"; die "lfm bench --image failed"; }
    record "{\"engine\":\"lfm.cpp\",\"vision\":$(cat "$WORK/lv.json")}"
  fi
done

# --- 4. one table of medians
"$PY" - "$WORK/results.jsonl" "$PP" "$TG" "$THREADS" "${TILE:-}" "${PHOTO:-}" <<'EOF'
import json, statistics, sys
path, pp, tg, threads, tile, photo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
rows = [json.loads(l) for l in open(path) if l.strip()]
stages = {}  # name -> {"llama.cpp": [..], "lfm.cpp": [..], "unit": ..}
def add(stage, engine, unit, v):
    s = stages.setdefault(stage, {"unit": unit, "llama.cpp": [], "lfm.cpp": []})
    s[engine].append(v)
bandwidth = []
crops = {}  # engine -> crops (image slices) the 1024x768 photo was cut into
for r in rows:
    if "llama_bench" in r:
        for t in r["llama_bench"]:
            name = f"pp{t['n_prompt']}" if t["n_gen"] == 0 else f"tg{t['n_gen']}"
            add(f"{name} {r['dtype']}", "llama.cpp", "tok/s", t["avg_ts"])
    elif "lfm_bench" in r:
        b = r["lfm_bench"]
        if b.get("memory_read_gb_s", 0) > 0: bandwidth.append(b["memory_read_gb_s"])
        for t in b["results"]:
            add(f"{t['test']} {r['dtype']}", "lfm.cpp", "tok/s", t["median"])
            if t["test"].startswith("tg") and "gb_s" in t:
                add(f"{t['test']} {r['dtype']} GB/s (lfm.cpp)", "lfm.cpp", "GB/s", t["gb_s"])
    elif "vision" in r:
        for t in r["vision"]["results"]:
            test = t["test"]
            if test == f"vision ms/image: {tile}":
                add("vision: one 512x512 tile (ms)", "lfm.cpp", "ms", t["median"])
            elif test == f"vision ms/image: {photo}":
                add("vision: 1024x768 photo, all crops (ms)", "lfm.cpp", "ms", t["median"])
            elif test == f"vision ms/crop: {photo}":
                crops["lfm.cpp"] = t["n_prompt"]
            elif test.startswith("image analysis") and test.endswith(f": {photo}"):
                add("image analysis 1024x768: encode+prefill+tg16 (ms)", "lfm.cpp", "ms", t["median"])
    elif r.get("engine") == "llama.cpp" and "image" in r:
        enc = sum(r["slices"])
        if r["image"] == tile:
            add("vision: one 512x512 tile (ms)", "llama.cpp", "ms", enc)
        else:
            crops["llama.cpp"] = len(r["slices"])
            add("vision: 1024x768 photo, all crops (ms)", "llama.cpp", "ms", enc)
            if r["e2e_ms"] is not None:
                add("image analysis 1024x768: encode+prefill+tg16 (ms)", "llama.cpp", "ms", r["e2e_ms"])
print(f"## lfm.cpp vs llama.cpp ({threads} threads, medians of interleaved runs; ratio > 1: lfm.cpp faster)")
print()
print("| stage | llama.cpp | lfm.cpp | ratio |")
print("|---|---:|---:|---:|")
for name, s in stages.items():
    a = statistics.median(s["llama.cpp"]) if s["llama.cpp"] else None
    b = statistics.median(s["lfm.cpp"]) if s["lfm.cpp"] else None
    fa = f"{a:.2f} {s['unit']}" if a is not None else "-"
    fb = f"{b:.2f} {s['unit']}" if b is not None else "-"
    ratio = "-"
    if a and b:
        ratio = f"{(b / a if s['unit'] == 'tok/s' else a / b):.2f}"
    print(f"| {name} | {fa} | {fb} | {ratio} |")
if crops:
    print()
    print("1024x768 photo cut into " + ", ".join(f"{n} crops by {e}" for e, n in crops.items()) +
          " (llama.cpp: its encoding lines; lfm.cpp: processor crops incl. thumbnail)")
if bandwidth:
    print()
    print(f"machine read bandwidth (streaming read, {threads} threads, this run): {statistics.median(bandwidth):.1f} GB/s")
EOF
