#!/usr/bin/env bash
# Coverage-guided fuzzing: builds every fuzz/*_fuzz.cpp as a libFuzzer binary (clang, ASan + UBSan)
# in build-fuzz/ and runs each for SECONDS (default 600) from its seed corpus (fuzz/<name>.args).
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 60 gguf safetensors
# New coverage-increasing inputs accumulate in build-fuzz/corpus/<name>/ (kept across runs; the seed
# directories are never written). A crash stops that target and leaves its input in
# build-fuzz/crashes/; replay it with build-fuzz/fuzz_<name> FILE. Prints executions, speed and new
# inputs per target; exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}
shift || true
JOBS=${JOBS:-$(nproc)}
TESTDATA=${LFM_TESTDATA_DIR:-$(cd .. && pwd)/shared/testdata}
OUT=build-fuzz

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (bash scripts/setup.sh installs clang)" >&2
  exit 2
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do n=$(basename "$f" _fuzz.cpp); targets+=("$n"); done
fi

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_COMPILER=clang -DLFM_LIBFUZZER=ON -DLFM_BUILD_TESTS=OFF -DLFM_BUILD_BENCH=OFF \
  -DLFM_TESTDATA_DIR="$TESTDATA" "${launcher[@]}" >/dev/null
cmake --build "$OUT" -j"$JOBS" --target "${targets[@]/#/fuzz_}"

mkdir -p "$OUT/crashes" "$OUT/logs"
crashed=0
printf '%-22s %8s %12s %10s %9s  %s\n' target seconds executions exec/s new_units result
for name in "${targets[@]}"; do
  # The .args file: seed paths (@SOURCE@, @TESTDATA@) and flags; -runs=N is for the CI driver only.
  seeds=() flags=()
  if [ -f "fuzz/$name.args" ]; then
    while IFS= read -r a; do
      [ -z "$a" ] && continue
      a=${a//@SOURCE@/$PWD}
      a=${a//@TESTDATA@/$TESTDATA}
      case "$a" in
        -runs=*) ;;
        -*) flags+=("$a") ;;
        *) seeds+=("$a") ;;
      esac
    done <"fuzz/$name.args"
  fi
  corpus="$OUT/corpus/$name"
  mkdir -p "$corpus"
  log="$OUT/logs/$name.log"
  start=$(date +%s)
  set +e
  "$OUT/fuzz_$name" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$OUT/crashes/$name-" "${flags[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  result=ok
  if [ "$rc" != 0 ]; then
    result="CRASH (exit $rc): $(grep -m1 -o "$OUT/crashes/$name-[^ ]*" "$log" || echo "see $log")"
    crashed=1
  fi
  printf '%-22s %8s %12s %10s %9s  %s\n' "$name" "$elapsed" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$(stat new_units_added)" "$result"
done
echo "logs: $OUT/logs/, corpora: $OUT/corpus/, crashing inputs: $OUT/crashes/"
exit "$crashed"
