#!/usr/bin/env bash
# The README's test command: installs dependencies, builds (Release), runs the whole suite, then
# rebuilds with ASan+UBSan and runs the suite again, then runs the base, kernel, engine and server tests
# (the thread pool, the kernels on it, concurrent engines, the server's request slots) under
# ThreadSanitizer.
# Set LFM_SKIP_SANITIZE=1 to skip the ASan+UBSan pass, LFM_SKIP_TSAN=1 to skip the TSan pass.
set -euo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
# Wall time of each phase, so a slow CI run shows where the time went.
phase() { echo "== [$(( SECONDS - START )) s] $*"; }
phase "setup"
bash scripts/setup.sh
JOBS=${JOBS:-$(nproc)}
# Tests at the published models' full shapes, by name (see the sanitizer passes).
FULL_SIZE_TESTS='FullSize|Lfm2_350m|Lfm25Vl450m'
TESTDATA=${LFM_TESTDATA_DIR:-$(cd .. && pwd)/shared/testdata}

phase "Release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLFM_TESTDATA_DIR="$TESTDATA" >/dev/null
cmake --build build -j"$JOBS"
phase "Release tests"
ctest --test-dir build -j"$JOBS" --output-on-failure --timeout 900

if [ "${LFM_SKIP_SANITIZE:-0}" != 1 ]; then
  phase "ASan + UBSan build"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLFM_SANITIZE=ON \
    -DLFM_BUILD_BENCH=OFF -DLFM_TESTDATA_DIR="$TESTDATA" >/dev/null
  cmake --build build-asan -j"$JOBS"
  # ASan frames are several times larger than plain ones: deep-but-bounded recursion tests (validator
  # and template depth limits) need a bigger main-thread stack than the default 8 MiB.
  ulimit -s 262144 || true
  phase "ASan + UBSan tests"
  # The full-size checks -- the tests named FullSize*, *Lfm2_350m* or *Lfm25Vl450m*: transformers goldens on
  # rewritten 0.7-0.9 GB checkpoints, the full-size random-model writers, quantized and long-context runs at
  # the real shapes -- are single-threaded numerics and file output, 1-6 min each under ASan; the Release pass
  # runs them, the same code paths run here on the tiny models, and the kernel tests cover the real sizes.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j"$JOBS" --output-on-failure --timeout 1800 -LE nosan \
      -E "$FULL_SIZE_TESTS"
fi

if [ "${LFM_SKIP_TSAN:-0}" != 1 ]; then
  phase "ThreadSanitizer build (base, kernels, engine, server)"
  # Only the modules that run threads: a whole-suite TSan build would double the CI time.
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Release -DLFM_TSAN=ON \
    -DLFM_BUILD_BENCH=OFF -DLFM_TESTDATA_DIR="$TESTDATA" >/dev/null
  cmake --build build-tsan -j"$JOBS" --target test_base test_kernels test_engine test_server
  # The full-size tests are single-threaded numerics and file output (minutes under TSan, no threads);
  # the ISA leak check reads the `lfm` binary, which this pass does not build (the Release pass ran it);
  # the kernel tests run once, on the default ISA: the isa_* reruns (2 min each under TSan) test the lower
  # ISA paths, not threading, and the Release and ASan passes run them.
  phase "ThreadSanitizer tests"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan -j"$JOBS" --output-on-failure --timeout 1800 -L '^(base|kernels|engine|server)$' \
      -LE nosan -E "$FULL_SIZE_TESTS|isa_no_avx_outside_kernels|^isa_|^server_openai_clients$|^server_load$"
fi
phase "done"
