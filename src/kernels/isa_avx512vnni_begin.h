// Like isa_avx512_begin.h (same namespace lfm::avx512, same rules: include LAST, close with isa_end.h),
// plus AVX512_VNNI for vpdpbusd. Functions defined in between may only be called when
// CpuHasAvx512Vnni() and ActiveIsa() == kAvx512 (base/cpu_features.h).
#ifndef LFM_ISA_NS
#define LFM_ISA_NS avx512
#if defined(__x86_64__)
#define LFM_ISA_COMPILED 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#endif
#else
#define LFM_ISA_COMPILED 0
#endif
#else
#error "isa_*_begin.h included twice without isa_end.h"
#endif
