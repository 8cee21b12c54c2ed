// Include LAST in an AVX2 kernel file (after every other #include), and close with isa_end.h.
// Functions defined in between are compiled for AVX2 + FMA + F16C and live in namespace lfm::avx2.
// See isa_avx512_begin.h for why this is a target region rather than per-file compiler flags.
#ifndef LFM_ISA_NS
#define LFM_ISA_NS avx2
#if defined(__x86_64__)
#define LFM_ISA_COMPILED 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
#else
#define LFM_ISA_COMPILED 0
#endif
#else
#error "isa_*_begin.h included twice without isa_end.h"
#endif
