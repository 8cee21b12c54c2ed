#!/usr/bin/env bash
# Checks that a portable build runs on a CPU without AVX: in each given binary, every function that
# contains an AVX / AVX2 / AVX-512 instruction (VEX/EVEX-encoded: mnemonics v*, mask registers k*) must
# be a kernel of namespace lfm::avx2 or lfm::avx512, which are only called after the run-time CPU check
# (base/cpu_features.h). Anything else with such instructions (e.g. an inline function compiled inside
# an ISA target region and kept by the linker for baseline callers) is listed and the check fails.
# Usage: scripts/check_isa_leaks.sh BINARY...
set -euo pipefail
status=0
for bin in "$@"; do
  leaks=$(objdump -d --no-show-raw-insn -C "$bin" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
    /^ +[0-9a-f]+:\t/ {
      split($0, parts, "\t"); ins = parts[2]; split(ins, w, " "); m = w[1]
      if (m ~ /^(v|k)/ && m !~ /^(verr|verw)$/ && fn !~ /lfm::avx(2|512)::/ && !(fn in seen)) {
        seen[fn] = 1; print fn " (" ins ")"
      }
    }')
  if [ -n "$leaks" ]; then
    echo "$bin: AVX instructions outside the run-time-dispatched kernels:"
    echo "$leaks" | head -50
    status=1
  else
    echo "$bin: ok (AVX code only in lfm::avx2 / lfm::avx512)"
  fi
done
exit $status
