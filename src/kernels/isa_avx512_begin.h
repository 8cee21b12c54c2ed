// Include LAST in an AVX-512 kernel file (after every other #include), and close with isa_end.h.
// Functions defined in between are compiled for AVX-512 F/BW/VL/DQ + AVX2 + FMA + F16C and live in
// namespace lfm::avx512; the rest of the program is built for the portable baseline and calls them
// only when ActiveIsa() says the CPU runs them (see base/cpu_features.h).
// Why a target region and not per-file -m flags: inline functions of headers (std::vector, our own
// accessors) instantiated in a file built with -mavx512f would be AVX-512 code that the linker may
// keep for every caller, including baseline code on CPUs without AVX-512. Headers included before
// this region keep the baseline target. scripts/check_isa_leaks.sh verifies the binaries.
#ifndef LFM_ISA_NS
#define LFM_ISA_NS avx512
#if defined(__x86_64__)
#define LFM_ISA_COMPILED 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#endif
#else
#define LFM_ISA_COMPILED 0
#endif
#else
#error "isa_*_begin.h included twice without isa_end.h"
#endif
