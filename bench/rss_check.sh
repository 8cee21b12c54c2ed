#!/usr/bin/env bash
# Peak RSS of full-size models against the engine's own accounting (issue #12: peak RSS <= 1.1x the
# weights as loaded + KV cache + scratch), one process per case so each peak is its own:
# safetensors bf16 loaded as f32, bf16, q8_0 and q4_0, and llama.cpp GGUFs (q8_0, q4_0, bf16) written
# by `lfm quantize`, for LFM2-350M and LFM2.5-VL-450M shapes (random weights, written on first use);
# for LFM2.5-VL-450M also with an image through the vision tower (its activation buffers are scratch).
#   bench/rss_check.sh [LFM_BINARY] [MODELS_DIR]      (defaults: build/lfm, /tmp/lfm-rss-models)
#   RSS_IMAGE: the image (default: ../shared/testdata/images/retina.jpg beside the repository)
# Prints one markdown row per case; exits 1 if any case is over the bound.
set -euo pipefail
LFM=$(realpath "${1:-build/lfm}")
DIR=${2:-/tmp/lfm-rss-models}
IMAGE=${RSS_IMAGE:-$(dirname "$(realpath "$0")")/../../shared/testdata/images/retina.jpg}
[ -f "$IMAGE" ] || { echo "rss_check.sh: no image at $IMAGE (set RSS_IMAGE)" >&2; exit 2; }
RATIO=${RSS_RATIO:-1.1}
BENCH_ARGS=(-p 512 -n 16 -r 1 -t 2 --no-bandwidth-probe -o json --rss-ratio "$RATIO")
mkdir -p "$DIR"
for shape in lfm2-350m lfm2.5-vl-450m; do
  [ -f "$DIR/$shape/model.safetensors" ] || "$LFM" make-test-model --shape "$shape" --out "$DIR/$shape" -q
  for t in q8_0 q4_0 bf16; do
    [ -f "$DIR/$shape-$t.gguf" ] || "$LFM" quantize -m "$DIR/$shape" --type "$t" --out "$DIR/$shape-$t.gguf" >/dev/null
  done
done
fail=0
echo "| model | case | peak RSS MB | weights MB | KV MB | scratch MB | bound MB | peak/sum |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
run() {  # model-label case-label bench-args...
  local label=$1 case=$2; shift 2
  local out
  out=$("$LFM" bench "$@" "${BENCH_ARGS[@]}") || { echo "| $label | $case | bench failed |"; fail=1; return; }
  python3 - "$label" "$case" "$out" <<'PY' || fail=1
import json, sys
label, case, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
m = out["memory"][0]
mb = lambda b: b / 1e6
print(f"| {label} | {case} | {mb(m['peak_rss_bytes']):.1f} | {mb(m['weight_bytes']):.1f} | {mb(m['kv_cache_bytes']):.1f} "
      f"| {mb(m['scratch_bytes']):.1f} | {mb(m['bound_bytes']):.1f} | {m['peak_rss_bytes'] / m['accounted_bytes']:.3f}"
      f"{'' if m['within_bound'] else ' OVER'} |")
sys.exit(0 if m["within_bound"] else 1)
PY
}
for shape in lfm2-350m lfm2.5-vl-450m; do
  for d in f32 bf16 q8_0 q4_0; do run "$shape" "safetensors bf16 -> $d" -m "$DIR/$shape" --dtype "$d"; done
  for t in q8_0 q4_0 bf16; do run "$shape" "gguf $t" -m "$DIR/$shape-$t.gguf"; done
done
for d in f32 bf16; do
  run lfm2.5-vl-450m "safetensors bf16 -> $d, one image" -m "$DIR/lfm2.5-vl-450m" --dtype "$d" --image "$IMAGE" \
    --image-tokens 4
done
exit $fail
