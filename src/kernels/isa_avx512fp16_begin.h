// Like isa_avx512_begin.h (include LAST, close with isa_end.h), with AVX512_FP16 added to the target:
// for kernels that use vfmadd231ph and the other fp16 arithmetic. They live in namespace lfm::avx512 too (the
// leak check and the dispatch treat them as AVX-512 kernels) and may only be called when
// ActiveAvx512Fp16() (base/cpu_features.h) is true.
#ifndef LFM_ISA_NS
#define LFM_ISA_NS avx512
#if defined(__x86_64__)
#define LFM_ISA_COMPILED 1
#if defined(__clang__)
#pragma clang attribute push(                                                                          \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512fp16"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512fp16")
#endif
#else
#define LFM_ISA_COMPILED 0
#endif
#else
#error "isa_*_begin.h included twice without isa_end.h"
#endif
